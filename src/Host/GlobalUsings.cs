global using ComputeLedger.Ledger;
global using NodaTime;
// Ingesting and correcting usage hand the commitments they touched to their consumption detectors, in the same transaction.
global using ComputeLedger.Host.Commitments.TrackingConsumption;
