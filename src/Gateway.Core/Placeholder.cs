namespace Gateway; public static class Placeholder {}
