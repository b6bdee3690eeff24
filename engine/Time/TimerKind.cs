namespace BalloonScript.Engine.Time;

/// <summary>What a simulated timer does when it fires; the part that arms it registers the handler (<see cref="SimClock.Handle"/>).</summary>
internal enum TimerKind
{
    /// <summary>kswapd's HZ/10 nap in kswapd_try_to_sleep ran out.</summary>
    KswapdNap,
    /// <summary>A write (page cache writeback or swap-out) completed: end_page_writeback.</summary>
    WritebackDone,
    /// <summary>The balloon's work runs again (its thread woke, or the host changed the target).</summary>
    BalloonWork,
    /// <summary>The balloon thread's msleep(200) after "Out of puff!" ran out (it slept holding balloon_lock).</summary>
    BalloonOutOfPuffSleep,
    /// <summary>kcompactd's wait_event_freezable_timeout ran out (HPAGE_FRAG_CHECK_INTERVAL_MSEC, 500 ms; 6.1).</summary>
    KcompactdTimeout,
    /// <summary>Free page reporting's delayed work is due (PAGE_REPORTING_DELAY, 2 s; 6.1).</summary>
    PageReportingWork,
    /// <summary>The virtio balloon's free page hint work is queued on its balloon_wq (a config change; 6.1).</summary>
    FreePageHintWork,
    /// <summary>The host's live migration runs its next iteration (one per BUFFER_DELAY, 100 ms).</summary>
    MigrationIteration,
    /// <summary>The host's khugepaged wakes from its scan_sleep_millisecs (10 s by default).</summary>
    KhugepagedScan,
}
