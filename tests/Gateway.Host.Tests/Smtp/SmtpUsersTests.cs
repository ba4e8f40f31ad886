using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

/// <summary>The users file: who may AUTH, and which MAIL FROM addresses each one owns.</summary>
public sealed class SmtpUsersTests : IDisposable
{
    private static readonly string Hash = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString();
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-users-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private (SmtpUsers Users, IReadOnlyList<string> Errors) Load(params string[] lines)
    {
        var path = Path.Combine(_folder, "users");
        File.WriteAllLines(path, lines);
        return SmtpUsers.Load(path);
    }

    [Fact]
    public void ListedSenders_AddressesAndDomains_AreOwned_CaseInsensitively()
    {
        var (users, errors) = Load($"app:{Hash}:billing@example.test, @news.example.test");
        Assert.Empty(errors);
        Assert.True(users.Owns("app", "billing@example.test"));
        Assert.True(users.Owns("app", "BILLING@Example.Test"));
        Assert.True(users.Owns("app", "anyone@news.example.test"));
        Assert.False(users.Owns("app", "ceo@example.test"));
        Assert.False(users.Owns("app", "anyone@sub.news.example.test")); // a domain is that domain only
        Assert.False(users.Owns("app", "news.example.test"));
    }

    /// <summary>The policy's spelling of a whole domain; it was kept as a literal address that owned nothing.</summary>
    [Fact]
    public void StarAtDomain_OwnsEveryAddressOfThatDomain_AsAtDomainDoes()
    {
        var (users, errors) = Load($"app:{Hash}:*@news.example.test");
        Assert.Empty(errors);
        Assert.True(users.Owns("app", "anyone@news.example.test"));
        Assert.False(users.Owns("app", "anyone@example.test"));
    }

    [Fact]
    public void LoginThatIsAnAddress_OwnsItself_WhenNothingIsListed_AndNothingElse()
    {
        var (users, errors) = Load($"alice@example.test:{Hash}", $"bob@example.test:{Hash}:shared@example.test");
        Assert.Empty(errors);
        Assert.True(users.Owns("alice@example.test", "Alice@example.test"));
        Assert.False(users.Owns("alice@example.test", "bob@example.test"));
        // A list replaces the login: bob owns only what is listed.
        Assert.True(users.Owns("bob@example.test", "shared@example.test"));
        Assert.False(users.Owns("bob@example.test", "bob@example.test"));
    }

    [Fact]
    public void NullSender_PassesForEveryUser_AndAnUnknownUserOwnsNothing()
    {
        var (users, _) = Load($"relay:{Hash}");
        Assert.True(users.Owns("relay", ""));
        Assert.False(users.Owns("relay", "relay@example.test"));
        Assert.False(users.Owns("nobody@example.test", "nobody@example.test"));
        Assert.Equal(["relay"], users.WithoutSenders);
    }

    [Theory]
    [InlineData("example.test", "'example.test' is neither an address")]
    [InlineData("a@b@example.test", "'a@b@example.test' is neither an address")]
    [InlineData("alice@", "'alice@' is neither an address")]
    [InlineData("bob*@example.test", "'bob*@example.test' is neither an address")] // a '*' would match nobody
    public void BadSender_IsAnErrorNamingFileLineAndUser_WithoutTheHash(string sender, string expected)
    {
        var (_, errors) = Load("# users", $"app:{Hash}:ok@example.test,{sender}");
        var error = Assert.Single(errors);
        Assert.StartsWith(Path.Combine(_folder, "users") + ":2: user 'app': sender ", error);
        Assert.Contains(expected, error);
        Assert.DoesNotContain(Hash, error);
    }

    [Fact]
    public void SpacesAroundFields_AnEmptyListAndATrailingComma_AreForgiven()
    {
        var (users, errors) = Load($"app : {Hash} : billing@example.test, ", $"relay:{Hash}:");
        Assert.Empty(errors);
        Assert.True(users.Verify("app", "pw"));
        Assert.True(users.Owns("app", "billing@example.test"));
        Assert.Equal(["relay"], users.WithoutSenders);
    }

    [Fact]
    public void LineWithTooManyFields_IsAnError()
    {
        var (_, errors) = Load($"app:{Hash}:a@example.test:b@example.test");
        Assert.Contains(":1: expected user:", Assert.Single(errors));
    }
}
