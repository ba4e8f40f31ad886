namespace Gateway;

/// <summary>A count with its noun in the right number, for what people read: "1 rule", "2 rules".</summary>
public static class Counted
{
    public static string Of(int count, string one, string many) => $"{count} {(count == 1 ? one : many)}";
}
