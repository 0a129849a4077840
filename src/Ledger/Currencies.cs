namespace ComputeLedger.Ledger;

/// <summary>
/// The active ISO 4217 currency codes with their minor unit (decimal places). Fund and precious-metal codes
/// (XAU, XDR, ...) have no minor unit and are not money a compute deal is settled in, so they are absent.
/// </summary>
public static class Currencies
{
    // Minor units other than 2, from the ISO 4217 list; every other listed code has 2.
    private const string ZeroDecimals = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
    private const string ThreeDecimals = "BHD IQD JOD KWD LYD OMR TND";
    private const string FourDecimals = "CLF UYW";
    private const string TwoDecimals =
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF " +
        "CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF " +
        "IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN " +
        "MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL " +
        "SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW " +
        "ZWG ZWL";

    private static readonly Dictionary<string, int> MinorUnitByCode = Build();

    /// <summary>The number of decimals the currency is settled in, or null when the code is not an active ISO 4217 currency.</summary>
    public static int? MinorUnit(string? code) =>
        code is not null && MinorUnitByCode.TryGetValue(code, out var digits) ? digits : null;

    public static bool IsKnown(string? code) => MinorUnit(code) is not null;

    private static Dictionary<string, int> Build()
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (codes, digits) in new[] { (TwoDecimals, 2), (ZeroDecimals, 0), (ThreeDecimals, 3), (FourDecimals, 4) })
        {
            foreach (var code in codes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                map[code] = digits;
            }
        }

        return map;
    }
}
