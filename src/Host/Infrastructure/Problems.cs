using System.Text.Json;
using JasperFx;
using Marten.Exceptions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace ComputeLedger.Host.Infrastructure;

/// <summary>RFC 7807 answers for everything a client can get wrong; the detail always says what to fix.</summary>
public static class Problems
{
    public static ProblemHttpResult Status(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });

    public static ProblemHttpResult NotFound(string detail) => Status(StatusCodes.Status404NotFound, "Not found", detail);

    public static ProblemHttpResult Conflict(string detail) => Status(StatusCodes.Status409Conflict, "Conflict", detail);

    /// <summary>A 400 that names each field at fault, in the <c>errors</c> map, and repeats the first in <c>detail</c>.</summary>
    public static ValidationProblem Invalid(IReadOnlyList<(string Field, string Message)> errors) =>
        TypedResults.ValidationProblem(
            errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
            detail: string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}")),
            title: "The request is invalid");

    public static ValidationProblem Invalid(string field, string message) => Invalid([(field, message)]);

    public static IResult From(RuleViolation violation) => violation.Kind switch
    {
        ViolationKind.NotFound => NotFound(violation.Message),
        ViolationKind.Invalid => Invalid(violation.Field ?? "body", violation.Message),
        _ => Conflict(violation.Message),
    };

    /// <summary>Framework-made problems (no route, wrong media type, ...) also say what to fix.</summary>
    public static void FillInDetail(ProblemDetailsContext context)
    {
        var request = context.HttpContext.Request;
        context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
        {
            StatusCodes.Status404NotFound => $"No endpoint answers {request.Method} {request.Path}; the API is described at /openapi/v1.json.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not accept {request.Method}; see /openapi/v1.json.",
            StatusCodes.Status415UnsupportedMediaType => "Send the body as JSON with the header Content-Type: application/json.",
            StatusCodes.Status406NotAcceptable => "This API answers application/json; accept it.",
            _ => null,
        };
    }

    public static Task Write(HttpContext context, int status, string title, string detail) =>
        Status(status, title, detail).ExecuteAsync(context);
}

/// <summary>
/// Last line of defence: exceptions that still mean "the client asked for something that cannot be" become 4xx,
/// so a concurrency race or a malformed body never surfaces as a 500.
/// </summary>
public sealed class ClientErrorExceptionHandler(ILogger<ClientErrorExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        IResult? result = exception switch
        {
            RuleViolation v => Problems.From(v),
            ConcurrencyException or ExistingStreamIdCollisionException or JasperFx.Events.ExistingStreamIdCollisionException
                or JasperFx.Events.EventStreamUnexpectedMaxEventIdException =>
                Problems.Conflict("Someone else changed this commitment at the same time. Reload it and retry with its new version."),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } b =>
                Problems.Status(StatusCodes.Status413PayloadTooLarge, "Request body too large", b.Message),
            BadHttpRequestException b => Problems.Status(StatusCodes.Status400BadRequest, "Bad request", b.Message),
            JsonException j => Problems.Status(StatusCodes.Status400BadRequest, "Invalid JSON",
                $"{j.Message} Fix the value at '{j.Path ?? "$"}'."),
            // A session whose connection broke mid-transaction (the database restarted) surfaces as Marten's
            // SessionTransactionUnusableException around the NpgsqlException: Database() looks inside.
            _ when Database(exception) is { } database => database.IsTransient || database is not Npgsql.PostgresException
                ? Problems.Status(StatusCodes.Status503ServiceUnavailable, "The database is unavailable for a moment",
                    "The write was rolled back as a whole; nothing of it was stored. Retry the same request after the Retry-After delay.")
                : database is Npgsql.PostgresException { SqlState: ['2', '2', ..] }
                    ? Problems.Status(StatusCodes.Status400BadRequest, "A value cannot be stored",
                        "A value of the request is outside what the ledger stores; nothing was stored. Check the limits listed in the README.")
                    : null,
            _ => null,
        };

        if (result is null || httpContext.Response.HasStarted)
        {
            return false;
        }

        if (result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status503ServiceUnavailable })
        {
            // Transient: the same request can succeed once the database is back; a client that honours this backs off.
            httpContext.Response.Headers.RetryAfter = "1";
        }

        logger.LogInformation("Answered {Method} {Path} with {Result}: {Exception}", httpContext.Request.Method, httpContext.Request.Path,
            (result as IStatusCodeHttpResult)?.StatusCode, exception.Message);
        await result.ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>
    /// The PostgreSQL error under a failed request, if any. Only a transient one (connection lost, server restarting,
    /// serialization failure, deadlock) is a 503: a retry can cure it. Anything else is not the client's to retry.
    /// </summary>
    private static Npgsql.NpgsqlException? Database(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is Npgsql.NpgsqlException npgsql)
            {
                return npgsql;
            }
        }

        return null;
    }
}
