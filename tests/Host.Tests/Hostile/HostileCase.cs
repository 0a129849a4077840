using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComputeLedger.Host.Tests.Hostile;

/// <summary>What the contract of issue 10 allows as the answer to one hostile input.</summary>
public enum Expect
{
    /// <summary>A 4xx <c>application/problem+json</c>; a 400 carries <c>errors</c> naming the field in plain words.</summary>
    Refused,

    /// <summary>
    /// Usage ingestion checks each record on its own (README "Usage ingestion"): a 200 with nothing accepted and every
    /// record in <c>rejected</c>, or a whole-batch 4xx as for <see cref="Refused"/>.
    /// </summary>
    RefusedOrRejected,

    /// <summary>
    /// A read with garbage in a query or path parameter: anything a date or instant type can hold gets a correct answer,
    /// so a 200 is allowed; a 4xx must be a problem that names the parameter. Never a 5xx.
    /// </summary>
    AnswersOrNamesParameter,

    /// <summary>Any answer but a 5xx, and nothing stored (an identical rate card posted again changes nothing).</summary>
    NotStored,

    /// <summary>A control: the unmutated body, which must be accepted (2xx; for usage, every record).</summary>
    Accepted,
}

/// <summary>One generated request. <see cref="Field"/> is the field or parameter the answer must name, when there is one.</summary>
public sealed record HostileCase(
    string Kind, string Method, string Path, string? Body, string Key, Expect Expect, string? Field = null,
    string? ContentType = "application/json", int Records = 0, byte[]? RawBody = null, int Padding = 0)
{
    public HttpRequestMessage ToRequest()
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), Path);
        request.Headers.TryAddWithoutValidation("X-Api-Key", Key);
        if (RawBody is not null || Body is not null)
        {
            // Padding goes before the body's last character (its closing brace or newline): whitespace JSON allows.
            var content = new ByteArrayContent(RawBody ?? Encoding.UTF8.GetBytes(Padding > 0 ? Body![..^1] + new string(' ', Padding) + Body[^1] : Body!));
            if (ContentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }

            request.Content = content;
        }

        return request;
    }

    /// <summary>The request as a person reads it in a failure list: escaped, and cut to a line.</summary>
    public string Describe()
    {
        var body = RawBody is not null ? $"<{RawBody.Length:N0} raw bytes>" : Body is null ? "<no body>" : Show(Body, 220);
        if (Padding > 0)
        {
            body += $" padded with {Padding:N0} spaces";
        }

        return $"[{Kind}] {Method} {Show(Path, 160)} key={Key} ct={ContentType ?? "-"} body: {body}";
    }

    /// <summary>Control characters escaped (\u0000 stays visible), everything else as sent; cut at <paramref name="max"/>.</summary>
    public static string Show(string text, int max)
    {
        var escaped = new StringBuilder();
        foreach (var c in text.Length > max * 2 ? text[..(max * 2)] : text)
        {
            escaped.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return escaped.Length <= max ? escaped.ToString() : $"{escaped.ToString(0, max)}…(+{text.Length - max} chars)";
    }
}

/// <summary>Building blocks for bodies: JSON nodes, and raw JSON text where a node could not hold the literal.</summary>
public static class J
{
    /// <summary>Parsed from text, so literals such as <c>1e400</c> or <c>79228162514264337593543950335</c> are sent verbatim.</summary>
    public static JsonNode? Raw(string json) => JsonNode.Parse(json);

    public static string Str(string value) => JsonSerializer.Serialize(value);

    public static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>A copy of <paramref name="body"/> with the value at a path (<c>a.b[0].c</c>) replaced, or removed when <paramref name="remove"/>.</summary>
    public static JsonNode With(JsonNode body, string path, JsonNode? value, bool remove = false)
    {
        var copy = body.DeepClone();
        var segments = Segments(path);
        JsonNode parent = copy;
        foreach (var segment in segments[..^1])
        {
            parent = segment is int i ? parent[i]! : parent[(string)segment]!;
        }

        switch (segments[^1])
        {
            case int index when remove:
                parent.AsArray().RemoveAt(index);
                break;
            case int index:
                parent[index] = value;
                break;
            case string name when remove:
                parent.AsObject().Remove(name);
                break;
            case string name:
                parent[name] = value;
                break;
        }

        return copy;
    }

    private static object[] Segments(string path)
    {
        var list = new List<object>();
        foreach (var part in path.Split('.'))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            if (bracket < 0)
            {
                list.Add(part);
                continue;
            }

            if (bracket > 0)
            {
                list.Add(part[..bracket]);
            }

            foreach (var index in part[bracket..].Split('[', StringSplitOptions.RemoveEmptyEntries))
            {
                list.Add(int.Parse(index.TrimEnd(']'), System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return [.. list];
    }
}
