using Dapper;
using Microsoft.Extensions.DependencyInjection;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Database;
using OdooOps.Members;
using OdooOps.Tests.Api;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Members;

/// <summary>
/// The rule "an organisation keeps an owner" (MemberAdmin): owners changes of one organisation take turns, so two owners
/// who demote (or remove) each other at the same moment cannot leave it with none.
/// </summary>
public sealed class LastOwnerTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    async Task<(Guid Org, Guid First, Guid Second)> TwoOwnersAsync()
    {
        var owner = world.Factory.Owner;
        var org = await Accounts.CreateOrgAsync(owner, world.Unique("owners"));
        return (org, await Accounts.CreateUserAsync(owner, $"{world.Unique("first")}@o.test", org, "owner"),
            await Accounts.CreateUserAsync(owner, $"{world.Unique("second")}@o.test", org, "owner"));
    }

    async Task<long> OwnersAsync(Guid org)
    {
        await using var conn = await Accounts.OpenAsync(world.Factory.Owner);
        return await conn.ExecuteScalarAsync<long>("select count(*) from registry.org_members where org_id = @org and role = 'owner'", new { org });
    }

    /// <summary>
    /// The first owner's change is made and held open; the second's starts meanwhile. Once it waits for the first (or
    /// finishes, which only a missing lock allows), the first commits.
    /// </summary>
    async Task<(MemberAdmin.Outcome First, MemberAdmin.Outcome Second)> RaceAsync(Guid org, Guid first, Guid second,
        Func<Npgsql.NpgsqlConnection, Npgsql.NpgsqlTransaction, Actor, Guid, Task<MemberAdmin.Outcome>> change)
    {
        var db = world.Factory.Services.GetRequiredService<OpsDatabase>();
        var firstChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var one = db.AsUserAsync(first, async (c, t) =>
        {
            var outcome = await change(c, t, Actor.User(first, null), first);
            firstChanged.SetResult();
            await release.Task;
            return outcome;
        });
        await firstChanged.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var two = db.AsUserAsync(second, (c, t) => change(c, t, Actor.User(second, null), second));

        await using (var conn = await Accounts.OpenAsync(world.Factory.Owner))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!two.IsCompleted && await conn.ExecuteScalarAsync<long>("select count(*) from pg_locks where locktype = 'advisory' and not granted") == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the second change neither waited nor finished");
                await Task.Delay(50);
            }
        }
        release.SetResult();
        return (await one, await two);
    }

    [Fact]
    public async Task Two_owners_demoting_each_other_at_once_leave_one_owner()
    {
        var (org, first, second) = await TwoOwnersAsync();
        var (a, b) = await RaceAsync(org, first, second, (c, t, actor, self) => MemberAdmin.ChangeRoleAsync(c, t, actor, MemberScope.Org, org, self, Role.Admin));

        Assert.IsType<MemberAdmin.Done>(a);
        var refused = Assert.IsType<MemberAdmin.Refused>(b);
        Assert.Equal(409, refused.Status);
        Assert.Contains("last owner and cannot be demoted", refused.Message);
        Assert.Equal(1, await OwnersAsync(org));
    }

    [Fact]
    public async Task Two_owners_leaving_at_once_leave_one_owner()
    {
        var (org, first, second) = await TwoOwnersAsync();
        var (a, b) = await RaceAsync(org, first, second, (c, t, actor, self) => MemberAdmin.RemoveAsync(c, t, actor, MemberScope.Org, org, self));

        Assert.IsType<MemberAdmin.Done>(a);
        Assert.Contains("last owner and cannot be removed", Assert.IsType<MemberAdmin.Refused>(b).Message);
        Assert.Equal(1, await OwnersAsync(org));
    }
}
