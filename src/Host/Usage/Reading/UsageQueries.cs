using ComputeLedger.Host.Infrastructure;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>The usage views over HTTP: check the question, ask <see cref="UsageReads"/>, answer with the lag in headers.</summary>
public static class UsageQueries
{
    [WolverineGet("/api/spend/chips", OperationId = "GetChipSpend")]
    [Tags("Usage")]
    public static async Task<IResult> Spend(string? from, string? to, string? provider, string? chip, string? asOf, string? knownAt,
        IQuerySession session, IClock clock, HttpResponse response, ReplayProgress progress, CancellationToken ct)
    {
        var errors = new List<(string Field, string Message)>();
        if (MonthsQuestion.Parse(from, to, asOf, knownAt, errors) is not { } question)
        {
            return Problems.Invalid(errors);
        }

        var answer = await UsageReads.Spend(question, provider, chip, session, clock.GetCurrentInstant(), progress, ct);
        answer.Lag.WriteTo(response);
        return TypedResults.Ok(answer);
    }

    [WolverineGet("/api/revenue/providers", OperationId = "GetProviderRevenue")]
    [Tags("Usage")]
    public static async Task<IResult> Revenue(string? from, string? to, string? provider, string? asOf, string? knownAt,
        IQuerySession session, IClock clock, HttpResponse response, ReplayProgress progress, CancellationToken ct)
    {
        var errors = new List<(string Field, string Message)>();
        if (MonthsQuestion.Parse(from, to, asOf, knownAt, errors) is not { } question)
        {
            return Problems.Invalid(errors);
        }

        var answer = await UsageReads.Revenue(question, provider, session, clock.GetCurrentInstant(), progress, ct);
        answer.Lag.WriteTo(response);
        return TypedResults.Ok(answer);
    }

    [WolverineGet("/api/commitments/{id}/drawdown", OperationId = "GetDrawdown")]
    [Tags("Usage")]
    public static async Task<IResult> Drawdown(string id, string? asOf, string? knownAt, IQuerySession session, IClock clock,
        HttpResponse response, ReplayProgress progress, CancellationToken ct)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var (answer, missing) = await UsageReads.Drawdown(id, axes!, session, clock.GetCurrentInstant(), progress, ct);
        if (answer is null)
        {
            return Problems.NotFound(missing!);
        }

        answer.Lag.WriteTo(response);
        return TypedResults.Ok(answer);
    }
}
