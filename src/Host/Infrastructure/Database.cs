namespace ComputeLedger.Host.Infrastructure;

public static class Database
{
    /// <summary>LEDGER_POSTGRES wins (what run.sh and docker-compose set), then ConnectionStrings:Ledger.</summary>
    public static string ConnectionString(IConfiguration configuration) =>
        configuration["LEDGER_POSTGRES"]
        ?? configuration.GetConnectionString("Ledger")
        ?? throw new InvalidOperationException(
            "No database configured: set LEDGER_POSTGRES to an Npgsql connection string (./run.sh does this for you).");
}
