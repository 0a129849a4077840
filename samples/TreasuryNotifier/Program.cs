using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ComputeLedger.Samples.TreasuryNotifier;

public static class Program
{
    /// <summary>
    /// dotnet run --project samples/TreasuryNotifier [-- --Treasury:Postgres "..."] (else LEDGER_POSTGRES, else LEDGER_PG_PORT) [--Treasury:RabbitMq amqp://guest:guest@localhost:5672]
    /// </summary>
    public static async Task Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.UseTreasuryNotifier(builder.Configuration);
        await builder.Build().RunAsync();
    }
}
