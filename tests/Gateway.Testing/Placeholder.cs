namespace Gateway.Testing; public static class Placeholder {}
