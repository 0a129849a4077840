global using ComputeLedger.Ledger;
global using NodaTime;
// Ingesting and correcting usage hand the commitments they touched to their consumption detectors, in the same transaction.
global using ComputeLedger.Host.Commitments.TrackingConsumption;
// The ingest slice checks and prices records with the Ledger's ingest rules.
global using ComputeLedger.Ledger.Usage.Ingesting;
