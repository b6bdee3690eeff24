namespace BalloonScript.Engine.Mm;

/// <summary>
/// acct_reclaim_writeback (6.1 mm/internal.h, called by folio_end_writeback): while reclaimers are throttled waiting for
/// writeback (VMSCAN_THROTTLE_WRITEBACK), each page whose writeback ends is counted, and enough of them wake the
/// reclaimers before their timeout. Registered by the reclaim versions that have it (5.16 on); v3.16 has none.
/// </summary>
internal interface IReclaimWritebackAccounting
{
    /// <summary>One page's writeback ended (after PG_writeback was cleared).</summary>
    void AcctReclaimWriteback();
}
