using Alba;
using ComputeLedger.Host.Commitments;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Ledger.Commitments.AchievingMilestone;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shouldly;
using Wolverine;
using Wolverine.Marten.Publishing;

namespace ComputeLedger.Host.Tests.Integration;

/// <summary>
/// Each tranche flip has exactly one TrancheBecameEligible effect at the consumer, when a node dies between the commit
/// and the send, when two nodes run side by side, and over RabbitMQ. Each test has a database of its own and its own hosts.
/// </summary>
public class Outbox_reliability(LedgerFixture fixture)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static HttpClient Admin(IAlbaHost host)
    {
        var client = host.Server.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", "dev-admin");
        return client;
    }

    private static async Task<long> Scalar(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_node_that_dies_between_the_commit_and_the_send_leaves_the_message_to_the_node_that_restarts()
    {
        var db = await fixture.NewDatabase();
        var nodeA = await LedgerFixture.StartHost(db);
        (await Admin(nodeA).PostJson("/api/commitments", LedgerTest.Deal("restart"))).Code.ShouldBe(201);

        // Achieve the milestone through the real write path, but take away the session's after-commit flush: the
        // transaction commits the ledger event and its outgoing messages, and the node never gets to send them.
        await using (var scope = nodeA.Services.CreateAsyncScope())
        {
            var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
            await using var session = scope.ServiceProvider.GetRequiredService<OutboxedSessionFactory>().OpenSession(bus);
            var flush = session.Listeners.Single(l => l.GetType().Name == "FlushOutgoingMessagesOnCommit");
            session.Listeners.Remove(flush);
            var command = new AchieveMilestone("restart", "trillion-param-model", new NodaTime.LocalDate(2025, 5, 1), "board minutes", "test");
            await CommitmentStream.Decide(session, bus, "restart", null,
                state => AchieveMilestoneDecider.Decide(command, state, NodaTime.SystemClock.Instance.GetCurrentInstant()), Ct);
        }

        (await Scalar(db, "select count(*) from ledger.mt_events where type = 'milestone_achieved'")).ShouldBe(1);
        (await Scalar(db, "select count(*) from ledger.wolverine_outgoing_envelopes where message_type like '%TrancheBecameEligible'")).ShouldBe(1);
        await nodeA.DisposeAsync();

        await using var treasury = await Treasury.Start(db);
        var nodeB = await LedgerFixture.StartHost(db);
        try
        {
            var rows = await treasury.WaitFor("restart", r => r.Any(x => x.Type == "TrancheBecameEligible"), seconds: 60);
            await Messaging.Settle(db);
            rows = await treasury.Received("restart");
            rows.Count(r => r.Type == "TrancheBecameEligible").ShouldBe(1);
            rows.Count(r => r.Type == "MilestoneAchieved").ShouldBe(1);
            (await Scalar(db, "select count(*) from ledger.wolverine_outgoing_envelopes")).ShouldBe(0);
        }
        finally
        {
            await nodeB.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_nodes_deciding_the_same_flips_concurrently_produce_one_effect_each()
    {
        var db = await fixture.NewDatabase();
        var balanced = new Dictionary<string, string?> { ["Ledger:Durability"] = "Balanced" };
        var nodeA = await LedgerFixture.StartHost(db, settings: balanced);
        var nodeB = await LedgerFixture.StartHost(db, settings: new Dictionary<string, string?>(balanced) { ["Ledger:ProjectionDaemon"] = "false" });
        await using var treasury = await Treasury.Start(db);
        try
        {
            var (a, b) = (Admin(nodeA), Admin(nodeB));
            (await a.PostJson("/api/commitments", LedgerTest.Deal("two-nodes"))).Code.ShouldBe(201);

            // Both nodes race to achieve every milestone, several times over; losers get 409 and retry.
            async Task Achieve(HttpClient client, string milestone)
            {
                for (var attempt = 0; attempt < 20; attempt++)
                {
                    var reply = await client.PostJson($"/api/commitments/two-nodes/milestones/{milestone}/achieve",
                        new { achievedOn = "2025-05-01", evidence = "board minutes" });
                    if (reply.Code == 200)
                    {
                        return;
                    }

                    reply.Code.ShouldBe(409, reply.ToString());
                }
            }

            await Task.WhenAll(new[] { "trillion-param-model", "aws-throughput-target", "inference-at-scale" }
                .SelectMany(m => new[] { Achieve(a, m), Achieve(b, m), Achieve(b, m), Achieve(a, m) }));

            await treasury.WaitFor("two-nodes", r => r.Count(x => x.Type == "TrancheBecameEligible") >= 2, seconds: 60);
            await Messaging.Settle(db);
            var rows = await treasury.Received("two-nodes");
            rows.Count(r => r.Type == "TrancheBecameEligible").ShouldBe(2, "t1 and t2 each flipped once");
            rows.Count(r => r.Type == "MilestoneAchieved").ShouldBe(3);
            // Not merely deduplicated: a decision that lost the race rolled its messages back with its events, so the
            // consumer never saw a second copy of anything.
            treasury.Log.Ignored.ShouldBe(0);
            (await Scalar(db, "select count(*) from ledger.mt_events where type = 'milestone_achieved'")).ShouldBe(3);
        }
        finally
        {
            await nodeB.DisposeAsync();
            await nodeA.DisposeAsync();
        }
    }

    [Fact]
    public async Task Over_RabbitMQ_a_tranche_flip_reaches_a_bound_queue_once()
    {
        var rabbit = Environment.GetEnvironmentVariable("LEDGER_TEST_RABBITMQ");
        Assert.SkipWhen(string.IsNullOrEmpty(rabbit),
            "LEDGER_TEST_RABBITMQ is not set: no RabbitMQ broker to test against (./test.sh starts one when it can).");

        var db = await fixture.NewDatabase();
        await using var treasury = await Treasury.Start(db, rabbit, rabbitQueue: $"treasury-{Guid.NewGuid():N}");
        var node = await LedgerFixture.StartHost(db, settings: new Dictionary<string, string?> { ["Ledger:RabbitMq"] = rabbit });
        try
        {
            var admin = Admin(node);
            (await admin.PostJson("/api/commitments", LedgerTest.Deal("over-rabbit"))).Code.ShouldBe(201);
            (await admin.PostJson("/api/commitments/over-rabbit/milestones/trillion-param-model/achieve",
                new { achievedOn = "2025-05-01", evidence = "board minutes" })).Code.ShouldBe(200);

            await treasury.WaitFor("over-rabbit", r => r.Any(x => x.Type == "TrancheBecameEligible"), seconds: 60);
            await Messaging.Settle(db);
            (await treasury.Received("over-rabbit")).Count(r => r.Type == "TrancheBecameEligible").ShouldBe(1);
        }
        finally
        {
            await node.DisposeAsync();
        }
    }
}
