using BalloonScript.Engine.Host;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Reclaim;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.Virtio.V6_1;

/// <summary>
/// The driver's free page hinting (VIRTIO_BALLOON_F_FREE_PAGE_HINT, 4.20; read in a mainline virtio_balloon.c of 6.8 or
/// later, the same in 6.1 but for the shrinker's registration: 6.1's <c>register_shrinker(&amp;vb-&gt;shrinker,
/// "virtio-balloon")</c> with DEFAULT_SEEKS, read in the patch that converted it to <c>shrinker_alloc</c>). A config change queues the hint work on the driver's
/// <c>balloon_wq</c> and marks the command id to be read again (<c>virtio_balloon_queue_free_page_work</c>). The work
/// (<c>report_free_page_func</c>) reads the host's id: DONE gives every held block back to the buddy allocator; a new id
/// (neither STOP nor the one in use) starts a round: the id is sent back, then blocks of order MAX_ORDER − 1 (4 MiB) are
/// allocated without reclaim or kswapd (__GFP_NORETRY | __GFP_NOWARN | __GFP_NOMEMALLOC: unmovable, at the min
/// watermark) and each is sent to the host and held on <c>free_page_list</c>, until an allocation fails or the host's id
/// changes; then the STOP id is sent. The blocks stay held until the host says DONE, or until memory pressure takes them
/// back early: the driver's shrinker counts 1,024 pages a block and frees whole blocks (<c>shrink_free_pages</c>).
/// The host takes each block off the free page virtqueue as it is kicked, so the driver always finds room on it (QEMU's
/// queue holds 1,024 entries and its I/O thread empties it as they come).
/// </summary>
internal sealed partial class FreePageHint(FreePageHints device, BalloonHost host, IPageAllocator allocator, IBuddyAllocator buddy,
    PageTable pages, ShrinkerList shrinkers, Scheduler scheduler, SimClock clock) : ISnapshotState, IShrinker
{
    /// <summary>VIRTIO_BALLOON_HINT_BLOCK_ORDER: MAX_ORDER − 1 in 6.1 (MAX_PAGE_ORDER in the copy read).</summary>
    public const int HintBlockOrder = Zone.MaxOrder - 1;

    /// <summary>VIRTIO_BALLOON_HINT_BLOCK_PAGES.</summary>
    public const int HintBlockPages = 1 << HintBlockOrder;

    /// <summary>VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG: no __GFP_DIRECT_RECLAIM, no __GFP_KSWAPD_RECLAIM, no __GFP_MOVABLE.</summary>
    private const Gfp AllocFlag = Gfp.NoRetry | Gfp.NoWarn | Gfp.NoMemAlloc | Gfp.NoKswapd;

    /// <summary>The kworker of balloon_wq the work runs on.</summary>
    private const int WorkerTaskId = Reclaim.KswapdThread.TaskId + 3;

    /// <summary>[config_read_bitmap's CMD_ID bit, cmd_id_received_cache, cmd_id_active].</summary>
    private readonly SharedArray _state = new(scheduler, 3);
    private const int ConfigReadIndex = 0, ReceivedIndex = 1, ActiveIndex = 2;

    /// <summary>
    /// <c>free_page_list</c>: the held blocks' first PFNs (its length is num_free_page_blocks); balloon_page_push adds at
    /// the head and pop takes from it (here the end).
    /// </summary>
    private readonly List<int> _freePageList = [];

    /// <summary>Per 4 MiB-aligned block of guest memory: whether it is on <see cref="_freePageList"/> (a look-up for the page-state check).</summary>
    [NotState("derived from the list: rebuilt on a restore")]
    private readonly bool[] _held = new bool[(pages.NrPages + HintBlockPages - 1) >> HintBlockOrder];

    /// <summary>
    /// virtballoon_probe's part: INIT_WORK of the hint work, both ids STOP, the shrinker registered; from then on
    /// virtballoon_changed queues the work (<see cref="QueueWork"/>) on every config change.
    /// </summary>
    public void Probe()
    {
        clock.Handle(TimerKind.FreePageHintWork, _ => RunWork());
        _state.Set(ReceivedIndex, FreePageHints.CmdIdStop);
        _state.Set(ActiveIndex, FreePageHints.CmdIdStop);
        shrinkers.Register(this);
        host.ConfigChanged += QueueWork;
    }

    /// <summary>num_free_page_blocks: blocks held for the host.</summary>
    public long HeldBlocks => _freePageList.Count;

    /// <summary>
    /// Whether <paramref name="pfn"/> is a tail page of a held block: allocated without __GFP_COMP, so only the head has
    /// a reference and the others are in no state the page-state check knows otherwise.
    /// </summary>
    public bool HoldsTail(int pfn) => (pfn & (HintBlockPages - 1)) != 0 && _held[pfn >> HintBlockOrder];

    /// <summary>virtio_balloon_queue_free_page_work: unless the id is marked to be read already, mark it and queue the work.</summary>
    private void QueueWork()
    {
        if (_state[ConfigReadIndex] != 0) return;
        _state.Set(ConfigReadIndex, 1);
        clock.AddTimer(clock.NowNs, TimerKind.FreePageHintWork);
    }

    private void RunWork() =>
        scheduler.RunWoken(new SimTask(WorkerTaskId, 0, "kworker/0:3", () =>
        {
            using var _ = scheduler.Current.Path.Enter("report_free_page_func");
            ReportFreePageFunc();
        })
        {
            Flags = PF.Kthread,
        });

    /// <summary>virtio_balloon_cmd_id_received: the config space read again if a config change marked it, else the cached id.</summary>
    private long CmdIdReceived()
    {
        if (_state[ConfigReadIndex] != 0)
        {
            _state.Set(ConfigReadIndex, 0);
            _state.Set(ReceivedIndex, device.ConfigCmdId);
        }
        return _state[ReceivedIndex];
    }

    /// <summary>report_free_page_func: DONE gives every block back; a new id (not STOP, not the active one) starts a round.</summary>
    [Preemptible]
    public void ReportFreePageFunc()
    {
        long received = CmdIdReceived();
        if (received == FreePageHints.CmdIdDone) ReturnFreePagesToMm(long.MaxValue);
        else if (received != FreePageHints.CmdIdStop && received != _state[ActiveIndex]) ReportFreePage();
    }

    /// <summary>
    /// virtio_balloon_report_free_page: send_cmd_id_start (the received id becomes the active one and goes to the host),
    /// send_free_pages (a block at a time while the host's id is still the active one), send_cmd_id_stop.
    /// </summary>
    [Preemptible]
    private void ReportFreePage()
    {
        _state.Set(ActiveIndex, CmdIdReceived());
        device.ReceiveCmdId(_state[ActiveIndex]);
        while (_state[ActiveIndex] == CmdIdReceived() && GetFreePageAndSend()) { }
        device.ReceiveCmdId(FreePageHints.CmdIdStop);
    }

    /// <summary>get_free_page_and_send: one block allocated, sent as an in-buffer and held; false once none can be had (-EINTR).</summary>
    [Preemptible]
    private bool GetFreePageAndSend()
    {
        int page = allocator.AllocPages(HintBlockOrder, AllocFlag);
        if (page < 0) return false;
        pages.Kind.Fill((byte)PageKind.Kernel, page, HintBlockPages);
        device.ReceiveHint(page, HintBlockOrder);
        _freePageList.Add(page);
        _held[page >> HintBlockOrder] = true;
        return true;
    }

    /// <summary>return_free_pages_to_mm: up to <paramref name="numToReturn"/> held blocks freed (free_pages); returns how many.</summary>
    [Preemptible]
    private long ReturnFreePagesToMm(long numToReturn)
    {
        long returned = 0;
        while (returned < numToReturn && _freePageList.Count > 0)
        {
            int page = _freePageList[^1];
            _freePageList.RemoveAt(_freePageList.Count - 1);
            _held[page >> HintBlockOrder] = false;
            buddy.PutPage(page, HintBlockOrder);
            returned++;
        }
        return returned;
    }

    /// <summary>virtio_balloon_shrinker_count: the held blocks' pages.</summary>
    public long CountObjects() => HeldBlocks * HintBlockPages;

    /// <summary>virtio_balloon_shrinker_scan → shrink_free_pages: <paramref name="nrToScan"/> rounded up to whole blocks, freed; their pages.</summary>
    [Preemptible]
    public long ScanObjects(long nrToScan, Gfp gfpMask) =>
        ReturnFreePagesToMm((nrToScan + HintBlockPages - 1) / HintBlockPages) * HintBlockPages;

    public object Save() => (_state.Save(), _freePageList.ToArray());

    public void Restore(object saved)
    {
        var (state, list) = ((long[], int[]))saved;
        _state.Restore(state);
        _freePageList.Clear();
        _freePageList.AddRange(list);
        Array.Clear(_held);
        foreach (int page in list) _held[page >> HintBlockOrder] = true;
    }
}
