using System.ComponentModel;
using Spectre.Console.Cli;

namespace ComputeLedger.Host.Cli;

/// <summary>The two time axes every command reads with, spelled and explained once.</summary>
public abstract class AxesSettings : CommandSettings
{
    [CommandOption("--as-of <DATE>")]
    [Description("Business time: 2025-12-31 (end of that day, UTC) or an instant such as 2025-12-31T12:00:00Z.")]
    public string? AsOf { get; set; }

    [CommandOption("--known-at <DATE>")]
    [Description("What the ledger had recorded by then; a date or an instant, as --as-of.")]
    public string? KnownAt { get; set; }
}
