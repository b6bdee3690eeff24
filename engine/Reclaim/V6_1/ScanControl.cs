namespace BalloonScript.Engine.Reclaim.V6_1;

/// <summary>
/// struct scan_control of 6.1 mm/vmscan.c: v3.16's fields plus the zone limit of node reclaim, the anon/file balance
/// state <c>prepare_scan_count</c> fills in, and the batch statistics (<c>sc-&gt;nr</c>) shrink_node acts on.
/// </summary>
internal sealed class ScanControl : V3_16.ScanControl
{
    /// <summary>DEACTIVATE_ANON / DEACTIVATE_FILE: bits of <see cref="MayDeactivate"/>, 1 &lt;&lt; is_file_lru.</summary>
    public const int DeactivateAnon = 1, DeactivateFile = 2;

    /// <summary>reclaim_idx: the highest zone (kernel zone index, ZONE_MOVABLE = 3) whose pages may be taken.</summary>
    public int ReclaimIdx { get; set; }
    /// <summary>anon_cost / file_cost: the lruvec's reclaim costs when the scan started.</summary>
    public long AnonCost { get; set; }
    public long FileCost { get; set; }
    public int MayDeactivate { get; set; }
    public bool ForceDeactivate { get; set; }
    public bool SkippedDeactivate { get; set; }
    /// <summary>cache_trim_mode: enough inactive file pages that are not thrashing to reclaim them first.</summary>
    public bool CacheTrimMode { get; set; }
    /// <summary>file_is_tiny: the file LRU is dangerously low, so anon is scanned.</summary>
    public bool FileIsTiny { get; set; }
    /// <summary>compaction_ready: a zone has enough free memory for compaction (direct reclaim for costly orders stops).</summary>
    public bool CompactionReady { get; set; }

    /// <summary>sc-&gt;nr: what shrink_inactive_list found in the batches of one shrink_node pass.</summary>
    public long NrDirty, NrUnqueuedDirty, NrCongested, NrWriteback, NrImmediate, NrFileTaken, NrTaken;

    /// <summary>memset(&amp;sc-&gt;nr, 0, ...) at the start of a shrink_node pass.</summary>
    public void ResetNr() => NrDirty = NrUnqueuedDirty = NrCongested = NrWriteback = NrImmediate = NrFileTaken = NrTaken = 0;
}
