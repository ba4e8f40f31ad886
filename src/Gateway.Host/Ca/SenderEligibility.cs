using Gateway.Configuration;
using Gateway.Policy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Ca;

/// <summary>
/// Who may be enrolled: a sender matching Gateway:Ca:EligibleSenders, or a member of
/// Gateway:Ca:EligibleGroup. The patterns are asked first, so their senders never wait for the
/// directory. The group's member list is read at once and kept for CacheDuration; a failed read is
/// not kept (the next sender asks again). During an outage the list last read is used until it is
/// StaleMembershipMaxAge old, so a member keeps signing and a removed member does not sign again;
/// it is kept on disk too (<see cref="RememberedMembership"/>), so a restart during an outage
/// does not lose it. Without such a list a sender outside the patterns is Unknown, never Eligible.
/// </summary>
public sealed partial class SenderEligibility
{
    private readonly LdapGroup? _group;
    private readonly TimeSpan _cacheDuration;
    private readonly TimeProvider _time;
    private readonly ILogger<SenderEligibility> _logger;
    private readonly SemaphoreSlim _reading = new(1, 1);
    private volatile CachedMembers? _cached;
    private readonly TimeSpan _staleMaxAge;
    /// <summary>The last list read successfully: what an outage falls back on, up to <see cref="_staleMaxAge"/>.</summary>
    private volatile ReadMembers? _lastRead;
    private readonly RememberedMembership? _remembered;

    public SenderEligibility(IOptions<GatewayOptions> options, TimeProvider time, ILogger<SenderEligibility> logger)
    {
        var ca = options.Value.Ca;
        Patterns = (ca.EligibleSenders ?? [])
            .Select(p => AddressPattern.TryParse(p, out var pattern, out _) ? pattern! : throw new InvalidOperationException($"invalid Gateway:Ca:EligibleSenders pattern '{p}'"))
            .ToList();
        if (ca.EligibleGroup is { } group)
        {
            var directory = options.Value.Certificates.Ldap.First(d => string.Equals(d.EffectiveName, group.Directory, StringComparison.OrdinalIgnoreCase));
            _group = new LdapGroup(directory, group);
            _cacheDuration = group.CacheDuration;
            _staleMaxAge = group.StaleMembershipMaxAge;
            _remembered = new RememberedMembership(Path.GetFullPath(ca.Path), _group.Name);
            if (_remembered.Load(time.GetUtcNow()) is { } remembered) _lastRead = new ReadMembers(remembered.Members, remembered.ReadAt);
        }
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<AddressPattern> Patterns { get; }

    public bool HasGroup => _group is not null;

    public async ValueTask<Eligibility> CheckAsync(string address, CancellationToken cancellationToken)
    {
        if (Patterns.FirstOrDefault(p => p.Matches(address)) is { } pattern)
            return new Eligibility(EligibilityStatus.Eligible, $"matches Gateway:Ca:EligibleSenders '{pattern}'");
        if (_group is null) return new Eligibility(EligibilityStatus.NotEligible, "matches no Gateway:Ca:EligibleSenders pattern");
        var members = await GroupMembersAsync(cancellationToken);
        var asOf = "";
        if (!members.Known)
        {
            if (_lastRead is not { } last || _time.GetUtcNow() - last.ReadAt > _staleMaxAge)
                return new Eligibility(EligibilityStatus.Unknown, $"eligibility unknown: {members.Failure}");
            asOf = $" as read at {last.ReadAt.UtcDateTime:u} (now {members.Failure}; an old list is used up to Gateway:Ca:EligibleGroup:StaleMembershipMaxAge)";
            members = last.Members;
        }
        return members.Addresses.Contains(address)
            ? new Eligibility(EligibilityStatus.Eligible, $"member of {_group.Name}{asOf}")
            : new Eligibility(EligibilityStatus.NotEligible, $"matches no Gateway:Ca:EligibleSenders pattern and is not a member of {_group.Name}{asOf}");
    }

    /// <summary>The group's members' addresses (empty and known when no group is configured).</summary>
    public async Task<GroupMembership> GroupMembersAsync(CancellationToken cancellationToken)
    {
        if (_group is null) return GroupMembership.Read(new HashSet<string>());
        if (_cached is { } fresh && fresh.Until > _time.GetUtcNow()) return fresh.Members;
        await _reading.WaitAsync(cancellationToken);
        try
        {
            // Another sender may have read the group while this one waited.
            if (_cached is { } again && again.Until > _time.GetUtcNow()) return again.Members;
            var members = await _group.ReadAsync(cancellationToken);
            if (members.Known)
            {
                _cached = new CachedMembers(members, _time.GetUtcNow() + _cacheDuration);
                _lastRead = new ReadMembers(members, _time.GetUtcNow());
                if (!_remembered!.TrySave(members, _lastRead.ReadAt)) LogMembershipNotSaved();
            }
            else LogGroupUnavailable(members.Failure!);
            return members;
        }
        finally
        {
            _reading.Release();
        }
    }

    private sealed record CachedMembers(GroupMembership Members, DateTimeOffset Until);

    private sealed record ReadMembers(GroupMembership Members, DateTimeOffset ReadAt);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Warning, Message = "Certificate enrolment: the group's member list could not be saved in the CA folder; after a restart during a directory outage group senders wait for the directory")]
    private partial void LogMembershipNotSaved();

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Certificate enrolment: {Reason}; senders outside Gateway:Ca:EligibleSenders are not enrolled until it can be read")]
    private partial void LogGroupUnavailable(string reason);
}
