using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Infrastructure;

public class Access_and_operations(LedgerFixture fixture) : LedgerTest(fixture)
{
    [Fact]
    public async Task A_missing_or_unknown_key_is_a_401_problem()
    {
        var missing = await Anonymous.GetJson("/api/commitments");
        missing.Code.ShouldBe(401);
        missing.ContentType.ShouldBe("application/problem+json");
        missing.Json["detail"]!.GetValue<string>().ShouldContain("X-Api-Key");

        (await Fixture.Client("not-a-key").GetJson("/api/commitments")).Code.ShouldBe(401);
        (await Anonymous.PostJson("/api/commitments", Deal())).Code.ShouldBe(401);
    }

    [Fact]
    public async Task Analysts_read_but_cannot_write()
    {
        await Create(Deal());

        (await Analyst.GetJson("/api/commitments")).Code.ShouldBe(200);
        (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Code.ShouldBe(200);
        var write = await Analyst.PostJson("/api/commitments/amazon-anthropic/sign", new { signedOn = "2024-01-01" });
        write.Code.ShouldBe(403);
        write.ContentType.ShouldBe("application/problem+json");
        (await Analyst.PostJson("/api/commitments", Deal("other"))).Code.ShouldBe(403);
    }

    [Fact]
    public async Task Ingest_keys_can_neither_read_nor_manage_commitments()
    {
        (await Ingest.GetJson("/api/commitments")).Code.ShouldBe(403);
        (await Ingest.PostJson("/api/commitments", Deal())).Code.ShouldBe(403);
    }

    [Fact]
    public async Task Framework_errors_are_problems_that_say_what_to_fix()
    {
        using var form = new StringContent("commitmentId=x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");
        var unsupported = await Admin.PostAsync("/api/commitments", form, TestContext.Current.CancellationToken);
        ((int)unsupported.StatusCode).ShouldBe(415);
        unsupported.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await unsupported.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldContain("Content-Type: application/json");

        var missing = await Admin.GetJson("/api/no-such-thing");
        missing.Code.ShouldBe(404);
        missing.Json["detail"]!.GetValue<string>().ShouldContain("/api/no-such-thing");
    }

    [Fact]
    public async Task Readiness_says_the_database_answers()
    {
        var reply = await Anonymous.GetAsync("/health/ready", TestContext.Current.CancellationToken);

        ((int)reply.StatusCode).ShouldBe(200);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_api_and_a_reference_page_serves_it()
    {
        var doc = await Anonymous.GetJson("/openapi/v1.json");
        doc.Code.ShouldBe(200);
        var paths = doc.Json["paths"]!.AsObject().Select(p => p.Key).ToList();
        paths.ShouldContain("/api/commitments");
        paths.ShouldContain("/api/commitments/{id}/eligibility");
        paths.ShouldContain("/api/commitments/{id}/tranches/{trancheId}/release");

        var page = await Anonymous.GetAsync("/scalar/v1", TestContext.Current.CancellationToken);
        ((int)page.StatusCode).ShouldBe(200);
    }
}
