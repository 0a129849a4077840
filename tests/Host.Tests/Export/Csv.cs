using System.Text;

namespace ComputeLedger.Host.Tests.Export;

/// <summary>RFC 4180 fields of one CSV line (quoted fields may hold commas and doubled quotes; no line breaks here).</summary>
public static class Csv
{
    public static string[] Fields(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return [.. fields];
    }

    /// <summary>A whole CSV text as rows of named fields.</summary>
    public static List<Dictionary<string, string>> Rows(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        var header = Fields(lines[0]);
        return lines.Skip(1).Select(l =>
        {
            var f = Fields(l);
            if (f.Length != header.Length)
            {
                throw new InvalidOperationException($"{f.Length} fields for {header.Length} columns: {l}");
            }

            return header.Zip(f).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        }).ToList();
    }
}
