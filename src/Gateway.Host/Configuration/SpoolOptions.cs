namespace Gateway.Configuration;

public sealed class SpoolOptions
{
    public string Path { get; set; } = "var/spool";

    /// <summary>
    /// Messages up to 1 MiB are accepted into the accept journal (spool/journal/): one record per
    /// message, one fdatasync shared by the sessions accepting at the same time, and their own
    /// files in incoming/ only if their first attempt leaves recipients open. Off: every message
    /// gets its files at once (two file creations and fsyncs each: slower on a busy gateway).
    /// </summary>
    public bool Journal { get; set; } = true;

    /// <summary>Messages processed in parallel after the 250; unset: <see cref="EffectiveWorkers"/>.</summary>
    public int? Workers { get; set; }

    /// <summary>
    /// What 2 per CPU core comes to, at most <see cref="MaxPerCoreDefault"/>: the defaults of
    /// <see cref="EffectiveWorkers"/> and <see cref="EffectiveTransforms"/>. Delivery's descriptors
    /// grow with both (DeliveryDescriptors): uncapped, a host of 42 cores or more under a hard
    /// open-file limit of 1,024 (docker run --ulimit nofile=1024:1024) refused to start with the
    /// defaults; 32 copies made at once keep far more mail moving than one upstream takes.
    /// </summary>
    private static int TwoPerCore => Math.Min(2 * Environment.ProcessorCount, MaxPerCoreDefault);

    private const int MaxPerCoreDefault = 32;

    /// <summary>
    /// <see cref="Workers"/>, or 2 per CPU core (at most 32) and at least one per upstream connection
    /// allowed (Relay:MaxConnections), at most 256. A worker waits with its copy for the upstream's reply
    /// to the end of the data, up to 10 minutes: with fewer workers than connections, 4 copies an
    /// upstream filter sat on (40 s each) stopped all delivery, bounces included, while 4 of the 8
    /// connections stayed unused.
    /// </summary>
    public int EffectiveWorkers(RelayOptions relay) => Workers ?? Math.Clamp(Math.Max(TwoPerCore, relay.MaxConnections), 2, 256);

    /// <summary>Copies made at once (signed or encrypted); unset: <see cref="EffectiveTransforms"/>.</summary>
    public int? MaxConcurrentTransforms { get; set; }

    /// <summary>
    /// <see cref="MaxConcurrentTransforms"/>, or 2 per CPU core (at most 32); never more than the workers. Making a
    /// copy (parsing, signing, encrypting, and its intermediate copies, in memory up to 1 MiB) is the
    /// CPU and memory heavy part of an attempt, and the workers are as many as the upstream connections
    /// (up to 256) only so that copies an upstream sits on do not stop delivery: on a few cores, more
    /// copies made at once make none sooner, and each holds a few times its message meanwhile.
    /// </summary>
    public int EffectiveTransforms(RelayOptions relay) => Math.Min(MaxConcurrentTransforms ?? TwoPerCore, EffectiveWorkers(relay));

    /// <summary>First retry after a temporary failure; each next one doubles, up to <see cref="MaxRetryInterval"/>.</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan MaxRetryInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a message may stay queued before undelivered recipients fail (Postfix: 5 days).</summary>
    public TimeSpan MaximumLifetime { get; set; } = TimeSpan.FromDays(5);

    /// <summary>
    /// After this many attempts in a row that failed inside Gateway (a message it cannot process),
    /// the open recipients are held for an admin instead of being retried until MaximumLifetime.
    /// </summary>
    public int MaxProcessingFailures { get; set; } = 5;

    /// <summary>
    /// How often copies the policy held for a missing certificate are looked at again; each goes out
    /// by itself once the policy would now deliver it to every held recipient. Zero: never, an admin releases them.
    /// </summary>
    public TimeSpan HeldRecheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Bytes that must stay free on the spool's file system after a message is written, or the
    /// client gets 452 4.3.1 (Postfix's queue_minfree). The room is what lets queued mail be signed
    /// and encrypted (a copy in work/) and leave, so a full disk never blocks its own drain.
    /// Default: twice Gateway:Smtp:MaxMessageSize. 0 turns the check off (the disk's own ENOSPC still gives 452).
    /// </summary>
    public long? MinimumFreeSpace { get; set; }

    /// <summary>On SIGTERM or Ctrl-C: how long deliveries in flight may take to finish before they are cut and left queued.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest message (bytes as spooled) a failure report returns whole when the client asked
    /// RET=FULL (Postfix's bounce_size_limit); a larger one gets its headers only, so the report is
    /// never bigger than what an upstream may have refused for its size. 0: headers only, always.
    /// </summary>
    public long BounceSizeLimit { get; set; } = 50_000;

    /// <summary>
    /// When set (e.g. 04:00:00), a sender whose message is still undelivered this long after receipt
    /// gets one "delayed" notice (RFC 3464 Action: delayed). Off by default.
    /// </summary>
    public TimeSpan? DelayWarningAfter { get; set; }
}
