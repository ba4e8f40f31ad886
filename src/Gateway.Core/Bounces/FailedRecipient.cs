using Gateway.Outcomes;

namespace Gateway.Bounces;

/// <summary>A recipient the message will never reach, with the reply that says why and the words for a person.</summary>
public sealed record FailedRecipient(string Address, SmtpReply Reply, string Explanation);
