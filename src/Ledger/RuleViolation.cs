namespace ComputeLedger.Ledger;

/// <summary>What kind of rule a command broke; the Host maps it to an HTTP status.</summary>
public enum ViolationKind
{
    /// <summary>The command contradicts the ledger's current state (409).</summary>
    Conflict,

    /// <summary>The command names something the commitment does not have (404).</summary>
    NotFound,

    /// <summary>The command's own content breaks an invariant (400).</summary>
    Invalid,
}

/// <summary>The one exception a decider throws: a business rule refused the command.</summary>
public sealed class RuleViolation(ViolationKind kind, string message, string? field = null) : Exception(message)
{
    public ViolationKind Kind { get; } = kind;

    /// <summary>The request field at fault, when there is one (for Invalid).</summary>
    public string? Field { get; } = field;

    public static RuleViolation Conflict(string message) => new(ViolationKind.Conflict, message);

    public static RuleViolation NotFound(string message) => new(ViolationKind.NotFound, message);

    public static RuleViolation Invalid(string field, string message) => new(ViolationKind.Invalid, message, field);
}
