using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Time;

namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// Free page reporting (mm/page_reporting.c, v5.7; read in 6.1.78). A block freed at the reporting order (pageblock
/// order unless the module parameter was written) or above (page_reporting_notify_free) requests a pass; the first
/// request of an idle device schedules the work two seconds later (PAGE_REPORTING_DELAY), so frees pile up meanwhile.
/// The work, on a kworker, goes through each zone that has 32 blocks of the reporting order free above its low
/// watermark, each order from the reporting order up and each migratetype but ISOLATE:
/// unreported free blocks are isolated (__isolate_free_page, at the min watermark) into a scatterlist of 32, which is
/// reported with the zone lock dropped (the device sleeps until the host is done), then put back at their lists' tails
/// (__putback_isolated_page, no new notification) and marked PG_reported if they did not merge meanwhile. Each list gets
/// a budget of one report per 512 free blocks of its order, plus one; a list left over asks for another pass, two seconds
/// after this one. A reported block stays reported until it leaves the free lists (an allocation, a merge, compaction).
/// </summary>
internal sealed partial class PageReporting : ISnapshotState
{
    /// <summary>PAGE_REPORTING_CAPACITY: blocks per report.</summary>
    public const int Capacity = 32;
    /// <summary>PAGE_REPORTING_DELAY, 2 * HZ, in seconds.</summary>
    public const int DelaySeconds = 2;

    private const int Idle = 0, Requested = 1, Active = 2;
    /// <summary>The kworker the delayed work runs on (kswapd0 is 1 &lt;&lt; 20, kcompactd0 the next).</summary>
    private const int WorkerTaskId = Reclaim.KswapdThread.TaskId + 2;

    private readonly BuddyAllocator _buddy;
    private readonly Node _node;
    private readonly PageTable _pages;
    private readonly PageLists _lists;
    private readonly Scheduler _scheduler;
    private readonly SimClock _clock;
    /// <summary>prdev-&gt;state: IDLE, REQUESTED or ACTIVE (an atomic_t; any freeing task reads and swaps it).</summary>
    private readonly SharedArray _state;
    [NotState("wiring: the device that registered, fixed at its probe")]
    private IPageReportingDevice? _dev;
    [NotState("an option: the order written to the module parameter after the probe, if any")]
    private readonly int? _orderWritten;

    public PageReporting(BuddyAllocator buddy, Node node, PageTable pages, PageLists lists, Scheduler scheduler, SimClock clock,
        SimulationOptions options)
    {
        _orderWritten = options.PageReportingOrder;
        _buddy = buddy;
        _node = node;
        _pages = pages;
        _lists = lists;
        _scheduler = scheduler;
        _clock = clock;
        _state = new SharedArray(scheduler, 1);
        clock.Handle(TimerKind.PageReportingWork, _ => RunWork());
    }

    /// <summary>
    /// page_reporting_order: the device's order, or pageblock_order when it gives none; or what was written to the module
    /// parameter after the probe.
    /// </summary>
    public int Order { get; private set; } = Zone.PageblockOrder;

    /// <summary>
    /// Free pages in blocks marked PG_reported: reported to the host and not taken since. Such a block is of the
    /// reporting order or above and aligned to its size, so only the PFNs at that alignment are looked at.
    /// </summary>
    public long ReportedFreePages()
    {
        long sum = 0;
        for (int pfn = 0; pfn < _pages.NrPages; pfn += 1 << Order)
            if (_pages.PageBuddy(pfn) && _pages.Test(pfn, PG.Reported)) sum += 1L << _pages.PageOrder(pfn);
        return sum;
    }

    /// <summary>Whether the work is scheduled or running (the state is not IDLE).</summary>
    public bool Busy => _state[0] != Idle;

    public object Save() => (_state.Save(), Order);

    public void Restore(object saved)
    {
        var (state, order) = ((long[], int))saved;
        _state.Restore(state);
        Order = order;
    }

    /// <summary>
    /// page_reporting_register: the reporting order, the state IDLE, a first pass requested (the initial flush of the
    /// zones, two seconds on), then the device assigned and the static key enabled. Then the write to
    /// page_reporting_order's module parameter the options ask for, if any (6.1 overwrites a value given at boot here).
    /// </summary>
    public void Register(IPageReportingDevice dev)
    {
        Order = dev.Order != 0 ? dev.Order : Zone.PageblockOrder;
        _state.Set(0, Idle);
        Request();
        _dev = dev;
        _buddy.EnablePageReporting(this);
        if (_orderWritten is { } order) Order = order;
    }

    /// <summary>page_reporting_notify_free (from __free_one_page): a block of the reporting order or above requests a pass.</summary>
    public void NotifyFree(int order)
    {
        if (order < Order) return;
        Request();
    }

    /// <summary>
    /// __page_reporting_request: nothing if a pass is requested already; otherwise the state becomes REQUESTED (an
    /// atomic_xchg), and only a device that was IDLE schedules the work, PAGE_REPORTING_DELAY on.
    /// </summary>
    private void Request()
    {
        if (_state[0] == Requested) return;
        long old = _state[0];
        _state.Set(0, Requested);
        if (old != Idle) return;
        ScheduleWork();
    }

    /// <summary>schedule_delayed_work(&amp;prdev-&gt;work, PAGE_REPORTING_DELAY).</summary>
    private void ScheduleWork() => _clock.AddTimer(_clock.NowNs + DelaySeconds * _clock.Hz * _clock.TickNs, TimerKind.PageReportingWork);

    /// <summary>The delayed work fires: page_reporting_process on a kworker.</summary>
    private void RunWork() =>
        _scheduler.RunWoken(new SimTask(WorkerTaskId, 0, "kworker/0:2", () =>
        {
            using var _ = _scheduler.Current.Path.Enter("page_reporting_process");
            Process();
        })
        {
            Flags = PF.Kthread,
        });

    /// <summary>
    /// page_reporting_process: ACTIVE, every zone processed, then back to IDLE (atomic_cmpxchg) unless a request came
    /// meanwhile, which schedules the next pass. The delayed work runs it; a race can run a pass on a CPU of its own.
    /// </summary>
    [Preemptible]
    public void Process()
    {
        _state.Set(0, Active);
        var sg = new Scatterlist();
        foreach (var zone in _node.Zones) ProcessZone(zone, sg);
        long state = _state[0];
        if (state == Active) _state.Set(0, Idle);
        else if (state == Requested) ScheduleWork();
    }

    /// <summary>
    /// page_reporting_process_zone: nothing unless the zone passes the order-0 watermark test at the low mark plus 32
    /// blocks of the reporting order (ALLOC_CMA); each free list from the reporting order up, each migratetype but
    /// ISOLATE; then what is left in the scatterlist is reported and put back.
    /// </summary>
    [Preemptible]
    private void ProcessZone(Zone zone, Scatterlist sg)
    {
        sg.Offset = Capacity;
        long watermark = zone.WmarkPages(Zone.WmarkLow) + ((long)Capacity << Order);
        if (!_buddy.ZoneWatermarkOk(zone, 0, watermark, 0, AllocFlags.Cma, zone.FreePages)) return;
        for (int order = Order; order < Zone.MaxOrder; order++)
            for (int mt = 0; mt < MigrateType.Count; mt++)
                if (mt != MigrateType.Isolate) Cycle(zone, order, mt, sg);
        int leftover = Capacity - sg.Offset;
        if (leftover == 0) return;
        _dev!.Report(sg.Pfns, sg.Orders, sg.Offset, leftover);
        zone.Lock.Lock();
        Drain(sg, sg.Offset, leftover);
        zone.Lock.Unlock();
    }

    /// <summary>
    /// page_reporting_cycle: under the zone lock, walk one free list, skipping reported blocks. While the scatterlist has
    /// room, each unreported block is isolated into it from the end (a failed isolation ends the list); when it is full,
    /// the block found is rotated to the list's head, the lock dropped for the report, the blocks put back, and the walk
    /// starts again at the head. Past the budget the list is left, a pass requested, and what is left rotated to the head.
    /// </summary>
    [Preemptible]
    private void Cycle(Zone zone, int order, int mt, Scatterlist sg)
    {
        int list = zone.FreeList(order, mt);
        if (_lists.Empty(list)) return;
        zone.Lock.Lock();
        long budget = (zone.NrFree[order] + Capacity * 16 - 1) / (Capacity * 16);
        int next = list;
        for (int page = _lists.Next(list); page != list; page = next)
        {
            next = _lists.Next(page);
            if (_pages.Test(page, PG.Reported)) continue;
            if (budget < 0)
            {
                _state.Set(0, Requested);
                next = page;
                break;
            }
            if (sg.Offset > 0)
            {
                if (_buddy.IsolateFreePage(zone, page, order) == 0)
                {
                    next = page;
                    break;
                }
                sg.Offset--;
                sg.Pfns[sg.Offset] = page;
                sg.Orders[sg.Offset] = order;
                continue;
            }
            if (_lists.Prev(page) != list) _lists.RotateToFront(page, list);
            zone.Lock.Unlock();
            _dev!.Report(sg.Pfns, sg.Orders, 0, Capacity);
            sg.Offset = Capacity;
            budget--;
            zone.Lock.Lock();
            Drain(sg, 0, Capacity);
            next = _lists.Next(list);
        }
        if (next != list && _lists.Prev(next) != list) _lists.RotateToFront(next, list);
        zone.Lock.Unlock();
    }

    /// <summary>
    /// page_reporting_drain (the zone lock held): each reported block back to its free list's tail in its pageblock's
    /// current migratetype; PG_reported where it is still a free block of the order reported (it did not merge).
    /// </summary>
    private void Drain(Scatterlist sg, int from, int count)
    {
        for (int i = from; i < from + count; i++)
        {
            int page = sg.Pfns[i], order = sg.Orders[i];
            var zone = _node.ZoneOf(page);
            _buddy.PutbackIsolatedPage(zone, page, order, zone.GetPageblockMigratetype(page));
            if (_pages.PageBuddy(page) && _pages.PageOrder(page) == order) _pages.Set(page, PG.Reported);
        }
    }

    /// <summary>
    /// The work's scatterlist (kmalloc_array of PAGE_REPORTING_CAPACITY entries), filled from the end: entries
    /// [<see cref="Offset"/>, Capacity) are taken (page_reporting_process_zone's <c>offset</c>, which each cycle updates).
    /// </summary>
    private sealed class Scatterlist
    {
        public readonly int[] Pfns = new int[Capacity];
        public readonly int[] Orders = new int[Capacity];
        public int Offset;
    }
}
