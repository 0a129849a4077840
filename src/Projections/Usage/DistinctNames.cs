namespace ComputeLedger.Projections.Usage;

/// <summary>
/// The few distinct names (chips, regions) of one batch's records, kept in order of first use, so a record can point at
/// its name by position: the batch folds and the compact stored layout both number them this way.
/// </summary>
public static class DistinctNames
{
    /// <summary>
    /// The position of <paramref name="name"/> in <paramref name="names"/>, added at the end when new. A stored batch
    /// shares one string per name, so the reference is compared first; a batch names few, so a scan beats a hash.
    /// </summary>
    public static int IndexOf(List<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (ReferenceEquals(names[i], name) || string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        names.Add(name);
        return names.Count - 1;
    }
}
