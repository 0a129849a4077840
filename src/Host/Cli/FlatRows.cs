using System.Text.Json.Nodes;

namespace ComputeLedger.Host.Cli;

/// <summary>A view's answer as text rows for a table or CSV: its rows, tranches or months, nested fields as <c>a.b</c>.</summary>
public static class FlatRows
{
    public static IReadOnlyList<IReadOnlyDictionary<string, string>> Of(JsonNode node)
    {
        var rows = node switch
        {
            JsonArray array => array,
            JsonObject o when o["rows"] is JsonArray r => r,
            JsonObject o when o["tranches"] is JsonArray t => t,
            JsonObject o when o["byMonth"] is JsonArray m => m,
            _ => new JsonArray(node.DeepClone()),
        };

        return rows.Select(row =>
        {
            var flat = new Dictionary<string, string>(StringComparer.Ordinal);
            Flatten(row, "", flat);
            return (IReadOnlyDictionary<string, string>)flat;
        }).ToList();
    }

    private static void Flatten(JsonNode? node, string prefix, Dictionary<string, string> into)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    Flatten(value, prefix.Length == 0 ? key : $"{prefix}.{key}", into);
                }

                break;
            case JsonArray a:
                into[prefix] = string.Join(";", a.Select(x => x is JsonObject ? x.ToJsonString() : x?.ToString() ?? ""));
                break;
            default:
                into[prefix] = node?.ToString() ?? "";
                break;
        }
    }
}
