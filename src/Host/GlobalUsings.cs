global using ComputeLedger.Ledger;
global using NodaTime;
