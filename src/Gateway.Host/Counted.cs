namespace Gateway;

/// <summary>A count with its noun in the right number, for what people read: "1 rule", "2 rules".</summary>
public static class Counted
{
    public static string Of(int count, string one, string many) => $"{count} {(count == 1 ? one : many)}";

    /// <summary>A setting's duration in its largest whole unit: "5 days", "8 minutes", "1 day 12 hours" as "36 hours".</summary>
    public static string Duration(TimeSpan duration) =>
        duration.TotalDays >= 1 && duration.Ticks % TimeSpan.TicksPerDay == 0 ? Of((int)duration.TotalDays, "day", "days")
        : duration.TotalHours >= 1 && duration.Ticks % TimeSpan.TicksPerHour == 0 ? Of((int)duration.TotalHours, "hour", "hours")
        : duration.TotalMinutes >= 1 && duration.Ticks % TimeSpan.TicksPerMinute == 0 ? Of((int)duration.TotalMinutes, "minute", "minutes")
        : Of((int)Math.Ceiling(duration.TotalSeconds), "second", "seconds");
}
