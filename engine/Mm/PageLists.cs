using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// Every <c>list_head</c> the simulator has: the <c>page-&gt;lru</c> of each page (node = pfn) and list heads
/// (node = NrPages + head number), all in two int arrays. A page is on at most one list at a time: buddy
/// free list, LRU, balloon list or a compaction-private list. Operations check the CONFIG_DEBUG_LIST
/// conditions of v3.16 lib/list_debug.c; a failed check is a <c>list_corruption</c> report and, as in the
/// kernel's debug build, the operation is not done. Each link it changes marks the pages at both ends in
/// <see cref="PageChanges"/> (and a page added while still on a list, its old neighbours), so that the checks after an
/// operation can look at the links it changed and not walk every list.
/// <para>
/// A node's next and prev sit side by side (one cache line), each stored XOR its poison value: the zeroed memory of a
/// new array reads as LIST_POISON1/2 (pages start on no list) without being written, so booting touches only the pages
/// of the array that hold the links it sets (the free blocks' heads), half of them.
/// </para>
/// </summary>
internal sealed class PageLists : ISnapshotState
{
    /// <summary>LIST_POISON1 / LIST_POISON2: what <c>list_del</c> leaves in next / prev.</summary>
    public const int Poison1 = int.MinValue + 0x100;
    public const int Poison2 = int.MinValue + 0x200;

    /// <summary>The bytes of one page's <c>lru</c> list_head here: its next and prev.</summary>
    public const int BytesPerPage = 2 * sizeof(int);

    private readonly int _nrPages;
    /// <summary>Node i's next at [2i] (XOR <see cref="Poison1"/>) and prev at [2i + 1] (XOR <see cref="Poison2"/>).</summary>
    private readonly int[] _links;
    /// <summary>The list heads not in use, a stack: the next <see cref="NewHead"/> takes [_freeCount - 1].</summary>
    private readonly int[] _freeHeads;
    private int _freeCount;
    /// <summary>Heads handed out since boot, at most: the heads above were never linked (their links still read as poison).</summary>
    private int _headsUsed;
    private readonly Sanitizer _sanitizer;
    [NotState("the marks of PageTable.Changes, not list state")]
    private readonly PageChanges _changes;
    [NotState("the marks of PageTable.Changes, not list state")]
    private readonly byte[] _marks;
    /// <summary>
    /// A bit per page: a link of it changed, or one of its neighbours' links now leads to it or no longer does, since
    /// the checks last looked (<see cref="LinkChanged"/>; the balloon check walks only that part of its list).
    /// </summary>
    private readonly ulong[] _linkChanged;
    [NotState("the recorder of partial-order reduction, set for a race explored with it")]
    private StepAccesses? _accesses;
    [NotState("which snapshot's links the pages were last restored from, to copy back only what was written since")]
    private int[]? _restoredFrom;

    public PageLists(PageTable pages, Sanitizer sanitizer, int maxHeads = 4096)
    {
        _nrPages = pages.NrPages;
        _sanitizer = sanitizer;
        _changes = pages.Changes;
        _marks = _changes.Marks;
        // Pages start on no list (all links poison: zeroed storage); poison makes a stray list_del visible.
        _links = new int[2 * (_nrPages + maxHeads)];
        _linkChanged = new ulong[(_nrPages + 63) >> 6];
        _freeHeads = new int[maxHeads];
        for (int h = maxHeads - 1; h >= 0; h--) _freeHeads[_freeCount++] = _nrPages + h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsPoison(int node) => node == Poison1 || node == Poison2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsHead(int node) => node >= _nrPages;

    // The link accessors are inlined always, as the page fields' are (PageField's indexer).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next(int node)
    {
        if (StepAccesses.Compiled) _accesses?.Read(node);
        return LinkNext(node);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Prev(int node)
    {
        if (StepAccesses.Compiled) _accesses?.Read(node);
        return LinkPrev(node);
    }

    /// <summary>Record every access to a node's links in <paramref name="accesses"/> from now on (null: stop); taking or
    /// giving back a list head is global.</summary>
    public void Track(StepAccesses? accesses) => _accesses = accesses;

    /// <summary>Partial-order reduction records the accesses of each step: a path that moves many entries at once
    /// (<see cref="TryTakeRun"/>, <see cref="TryMoveFirst"/>) takes its entry-by-entry form instead.</summary>
    public bool Tracking => StepAccesses.Compiled && _accesses is not null;

    // The links as stored, without the reduction hook (Next and Prev add it): for Insert and Unlink, whose every link read
    // is of a node that Touch records as written in the same step (a write is a read too). In the ahead-of-time code, which cannot fold
    // StepAccesses.Compiled, each hooked read is a test, and a value read twice is loaded twice.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int LinkNext(int node) => _links[2 * node] ^ Poison1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int LinkPrev(int node) => _links[2 * node + 1] ^ Poison2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetNext(int node, int next) => _links[2 * node] = next ^ Poison1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetPrev(int node, int prev) => _links[2 * node + 1] = prev ^ Poison2;

    /// <summary>
    /// INIT_LIST_HEAD(&amp;page-&gt;lru) of boot's struct page set-up (v3.16 memmap_init_zone, 6.1 __init_single_page) for a
    /// page that boot is about to list, in this model's terms: the links of a page on no list (poisoned), written. They
    /// read so already (zeroed storage), but list_add reads the new page's old links (for the change marks) before it
    /// writes them, and a page array's first touch by a read maps the kernel's zero page: the write after it is a copy
    /// with a TLB shootdown, an IPI whenever another thread of the process runs (at boot, one for each MAX_ORDER block).
    /// Only for a page on no list that nothing has listed yet.
    /// </summary>
    public void InitLinks(int node)
    {
        SetNext(node, Poison1);
        SetPrev(node, Poison2);
    }

    /// <summary>
    /// The links of pages [<paramref name="first"/>, +<paramref name="n"/>) faulted in writable, no link changed
    /// (<see cref="HostMemory"/>): list_add reads a page's old links before it writes them, and <see cref="TryTakeRun"/>
    /// checks a run is on no list before it links it.
    /// </summary>
    public void PrefaultWritable(int first, int n) => HostMemory.PrefaultWritable(_links, 2 * first, 2 * n);

    /// <summary>A new empty list (INIT_LIST_HEAD); give it back with <see cref="FreeHead"/>.</summary>
    public int NewHead()
    {
        if (StepAccesses.Compiled) _accesses?.Global();
        if (_freeCount == 0) throw new InvalidOperationException("out of simulated list heads");
        int h = _freeHeads[--_freeCount];
        _headsUsed = Math.Max(_headsUsed, h - _nrPages + 1);
        SetNext(h, h);
        SetPrev(h, h);
        return h;
    }

    public void FreeHead(int head)
    {
        if (StepAccesses.Compiled) _accesses?.Global();
        _freeHeads[_freeCount++] = head;
    }

    /// <summary>Every link, the stack of free list heads and its depth, how many heads were ever used, and which pages' links changed.</summary>
    public object Save() => ((int[])_links.Clone(), (int[])_freeHeads.Clone(), _freeCount, _headsUsed, (ulong[])_linkChanged.Clone());

    /// <summary>
    /// Restoring the snapshot last restored, only the pages of the chunks written since are copied back
    /// (<see cref="PageChanges.Dirty"/>; an exploration restores once per schedule). Of the list heads, only those either
    /// side ever used: the others are poison on both sides.
    /// </summary>
    public void Restore(object saved)
    {
        var (links, freeHeads, freeCount, headsUsed, linkChanged) = ((int[], int[], int, int, ulong[]))saved;
        if (ReferenceEquals(links, _restoredFrom))
            foreach (var (start, count) in _changes.DirtyRuns())
            {
                Array.Copy(links, 2 * start, _links, 2 * start, 2 * count);
                // A dirty run is whole chunks of 64 pages: whole words of the bits.
                Array.Copy(linkChanged, start >> 6, _linkChanged, start >> 6, (count + 63) >> 6);
            }
        else
        {
            Array.Copy(links, _links, 2 * _nrPages);
            linkChanged.CopyTo(_linkChanged, 0);
        }
        _restoredFrom = links;
        Array.Copy(links, 2 * _nrPages, _links, 2 * _nrPages, 2 * Math.Max(headsUsed, _headsUsed));
        freeHeads.CopyTo(_freeHeads, 0);
        _freeCount = freeCount;
        _headsUsed = headsUsed;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Empty(int head) => Next(head) == head;

    /// <summary>list_add: insert after <paramref name="head"/> (at the head of the list).</summary>
    public bool Add(int node, int head) => Insert(node, head, Next(head));

    /// <summary>list_add_tail: insert before <paramref name="head"/>.</summary>
    public bool AddTail(int node, int head) => Insert(node, Prev(head), head);

    /// <summary>list_add_tail if <paramref name="tail"/>, else list_add: one insertion where it is inlined, not two.</summary>
    public bool Add(int node, int head, bool tail)
    {
        int prev = tail ? Prev(head) : head, next = tail ? head : Next(head);
        return Insert(node, prev, next);
    }

    /// <summary>list_del: unlink and poison.</summary>
    public bool Del(int node)
    {
        if (!Unlink(node)) return false;
        if (StepAccesses.Compiled) _accesses?.Write(node);
        SetNext(node, Poison1);
        SetPrev(node, Poison2);
        return true;
    }

    /// <summary>list_move: unlink and add at the head of another list.</summary>
    public bool Move(int node, int head) => Unlink(node) && Add(node, head);

    /// <summary>list_move_tail: to the tail of another list.</summary>
    public bool MoveTail(int node, int head) => Unlink(node) && AddTail(node, head);

    /// <summary>
    /// <paramref name="first"/> taken off its list, then it and the pages after it, <paramref name="count"/> in all and
    /// the others on no list, linked in PFN order between <paramref name="prev"/> and <paramref name="next"/>: the links
    /// and change marks that <c>list_del(first)</c>, then <c>__list_add</c> of each page after the one before leave, each
    /// CONFIG_DEBUG_LIST check passed, at one pass over the run (rmqueue_bulk chains the pages of a block it splits so).
    /// False, and nothing changed, where one of those steps would report or a page is still on a list: the caller then
    /// steps, and the step that finds it reports it.
    /// </summary>
    public bool TryTakeRun(int first, int count, int prev, int next)
    {
        if (Tracking || count <= 0 || !CanAddBetween(prev, next) || first == prev || first == next) return false;
        int firstNext = Next(first), firstPrev = Prev(first);
        if (IsPoison(firstNext) || IsPoison(firstPrev) || Next(firstPrev) != first || Prev(firstNext) != first
            || firstNext == prev || firstNext == next || firstPrev == prev || firstPrev == next) return false;
        int last = first + count - 1;
        for (int p = first + 1; p <= last; p++)
            if (!IsPoison(Next(p)) || !IsPoison(Prev(p))) return false;
        Changed(firstPrev);
        Changed(firstNext);
        SetNext(firstPrev, firstNext);
        SetPrev(firstNext, firstPrev);
        Changed(prev);
        Changed(next);
        for (int p = first; p <= last; p++)
        {
            Changed(p);
            SetNext(p, p == last ? next : p + 1);
            SetPrev(p, p == first ? prev : p - 1);
        }
        SetNext(prev, first);
        SetPrev(next, last);
        return true;
    }

    /// <summary>
    /// The first <paramref name="max"/> entries of the list at <paramref name="from"/> (all, if it has fewer) moved in
    /// their order to between <paramref name="prev"/> and <paramref name="next"/> on another list: the links and change
    /// marks that <c>list_del</c> of the first entry and <c>__list_add</c> of it after the one moved before, repeated,
    /// leave, at one pass. Returns how many moved; 0, and nothing changed, where a step would report (the caller then
    /// steps, and that step reports).
    /// </summary>
    public int TryMoveFirst(int from, int max, int prev, int next)
    {
        if (Tracking || max <= 0 || !CanAddBetween(prev, next) || from == prev || from == next) return 0;
        int n = 0, last = from, node = Next(from);
        while (n < max && node != from)
        {
            // Each entry as its list_del would find it: linked both ways, neither poison nor another list's head.
            int after = Next(node);
            if (IsPoison(node) || IsHead(node) || IsPoison(after) || Prev(node) != last || Prev(after) != node
                || node == prev || node == next) return 0;
            last = node;
            node = after;
            n++;
        }
        if (n == 0 || node == prev || node == next) return 0;
        int first = Next(from);
        for (int p = first; p != node; p = Next(p)) Changed(p);
        Changed(node); // after the last one moved: its list_del changed this entry's prev
        Changed(prev);
        Changed(next);
        SetNext(from, node);
        SetPrev(node, from);
        SetPrev(first, prev);
        SetNext(last, next);
        SetNext(prev, first);
        SetPrev(next, last);
        return n;
    }

    /// <summary>__list_add_valid for an entry between <paramref name="prev"/> and <paramref name="next"/>.</summary>
    private bool CanAddBetween(int prev, int next) =>
        !IsPoison(prev) && !IsPoison(next) && Prev(next) == prev && Next(prev) == next;

    /// <summary>
    /// list_rotate_to_front(<paramref name="node"/>, <paramref name="head"/>): rotate the list so that
    /// <paramref name="node"/> comes first, the entries before it going to the tail in order (the head is moved).
    /// </summary>
    public bool RotateToFront(int node, int head) => node == head || (Unlink(head) && Insert(head, Prev(node), node));

    /// <summary>
    /// list_splice: every entry of <paramref name="from"/>, in order, moved to the head of <paramref name="to"/>. The
    /// kernel's (include/linux/list.h; read in a 3.18 tree and in later copies, the same code) relinks the chain's two
    /// ends at once, unchecked; here the entries move one at a time with list_move's CONFIG_DEBUG_LIST checks, so a
    /// corrupted entry is reported at the splice, and a move they refuse ends it (the entries left stay on
    /// <paramref name="from"/>).
    /// </summary>
    public void SpliceAll(int from, int to)
    {
        while (!Empty(from) && Move(Prev(from), to)) { }
    }

    /// <summary>True if <paramref name="node"/> currently sits on some list (its links are not poison).</summary>
    public bool OnAList(int node) => !IsPoison(Next(node));

    /// <summary>
    /// A list walk (list_for_each_entry[_safe] in <paramref name="walker"/>) over <paramref name="head"/> about to
    /// visit <paramref name="node"/>, after <paramref name="visited"/> entries: a poison value is the general
    /// protection fault the kernel would take, another list's head means the walk was carried into a foreign list,
    /// and more entries than there are pages means a cycle that never comes back to the head (the kernel would
    /// loop forever). Each is reported (by a walk that names its walker); the walk stops.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool WalkLeavesList(int node, int head, int visited, string? walker) =>
        (IsPoison(node) || (IsHead(node) && node != head) || visited >= _nrPages) && WalkLeft(node, head, walker);

    /// <summary>The report of <see cref="WalkLeavesList"/> (out of line, as <see cref="InsertCorrupt"/>); true.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool WalkLeft(int node, int head, string? walker)
    {
        if (walker is null) return true;
        string why = IsPoison(node) ? $"general protection fault in {walker}: list walk followed {Fmt(node)}"
            : IsHead(node) && node != head ? $"{walker}: list walk over {Fmt(head)} reached {Fmt(node)}, the head of another list"
            : $"{walker}: list walk over {Fmt(head)} passed {_nrPages} entries, more than there are pages, without coming back to its head";
        Corrupt(-1, why);
        return true;
    }

    /// <summary>
    /// list_for_each_entry_safe over <paramref name="head"/> in <paramref name="walker"/>: each entry's next is read
    /// before the entry is handed out, so the loop body may delete it. The walk ends at the head, or where
    /// <see cref="WalkLeavesList"/> finds the list broken (reported once, <see cref="Walk.Broken"/> set): after at
    /// most as many entries as there are pages, whatever shape a race left the list in.
    /// </summary>
    public Walk Entries(int head, string walker) => new(this, head, walker);

    /// <summary><see cref="Entries(int, string)"/> that reports nothing: a break only ends the walk (<see cref="Walk.Broken"/>).</summary>
    public Walk QuietEntries(int head) => new(this, head, null);

    /// <summary>Number of entries, walking the list (as pagetypeinfo counts free lists); a broken list is reported once and counted up to the break.</summary>
    public int Count(int head, string walker)
    {
        int n = 0;
        foreach (int _ in Entries(head, walker)) n++;
        return n;
    }

    /// <summary>The cursor of <see cref="Entries"/>: foreach, or MoveNext / Current where <see cref="Broken"/> matters.</summary>
    public struct Walk(PageLists lists, int head, string? walker)
    {
        private int _next = lists.Next(head);
        private int _visited;

        public int Current { get; private set; }

        /// <summary>The walk stopped at a break in the list (reported as list_corruption), not at its head.</summary>
        public bool Broken { get; private set; }

        public bool MoveNext()
        {
            Current = _next;
            if (Current == head || Broken) return false;
            if (lists.WalkLeavesList(Current, head, _visited++, walker))
            {
                Broken = true;
                return false;
            }
            _next = lists.Next(Current);
            return true;
        }

        public readonly Walk GetEnumerator() => this;
    }

    /// <summary>Partial-order reduction: a link change writes the node and its neighbours.</summary>
    // Inlined always: the tiered JIT folds StepAccesses.Compiled and drops the call anyway, but the ahead-of-time code a
    // fresh process runs first cannot fold the switch and kept the call at every list operation (SimLock.Owner's note).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Touch(int node, int prev, int next)
    {
        if (!StepAccesses.Compiled || _accesses is not { } a) return;
        a.Write(node);
        if (!IsPoison(prev)) a.Write(prev);
        if (!IsPoison(next)) a.Write(next);
    }

    /// <summary>__list_add with the v3.16 CONFIG_DEBUG_LIST checks (a failed one reported by <see cref="InsertCorrupt"/>).</summary>
    private bool Insert(int node, int prev, int next)
    {
        Touch(node, prev, next);
        if (IsPoison(prev) || IsPoison(next) || LinkPrev(next) != prev || LinkNext(prev) != next || node == prev || node == next)
            return InsertCorrupt(node, prev, next);
        int oldNext = LinkNext(node), oldPrev = LinkPrev(node);
        if (!IsPoison(oldNext)) Changed(oldNext);
        if (!IsPoison(oldPrev)) Changed(oldPrev);
        Changed(node);
        Changed(prev);
        Changed(next);
        SetNext(node, next);
        SetPrev(node, prev);
        SetPrev(next, node);
        SetNext(prev, node);
        return true;
    }

    /// <summary>__list_add_valid's reports, in its order (out of line: the hot path stays small enough to inline).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool InsertCorrupt(int node, int prev, int next)
    {
        if (IsPoison(prev) || IsPoison(next))
            return Corrupt(node, $"list_add: general protection fault following a poisoned pointer (prev={Fmt(prev)}, next={Fmt(next)})");
        if (Prev(next) != prev)
            return Corrupt(node, $"list_add corruption. next->prev should be prev ({Fmt(prev)}), but was {Fmt(Prev(next))}. (next={Fmt(next)})");
        if (Next(prev) != next)
            return Corrupt(node, $"list_add corruption. prev->next should be next ({Fmt(next)}), but was {Fmt(Next(prev))}. (prev={Fmt(prev)})");
        return Corrupt(node, $"list_add double add: new={Fmt(node)}, prev={Fmt(prev)}, next={Fmt(next)}");
    }

    /// <summary>__list_del_entry with the v3.16 CONFIG_DEBUG_LIST checks (a failed one reported by <see cref="UnlinkCorrupt"/>).</summary>
    private bool Unlink(int node)
    {
        int next = LinkNext(node), prev = LinkPrev(node);
        Touch(node, prev, next);
        if (IsPoison(next) || IsPoison(prev) || LinkNext(prev) != node || LinkPrev(next) != node) return UnlinkCorrupt(node, prev, next);
        Changed(node);
        Changed(prev);
        Changed(next);
        SetNext(prev, next);
        SetPrev(next, prev);
        return true;
    }

    /// <summary>__list_del_entry_valid's reports, in its order (out of line, as <see cref="InsertCorrupt"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool UnlinkCorrupt(int node, int prev, int next)
    {
        if (next == Poison1)
            return Corrupt(node, $"list_del corruption, {Fmt(node)}->next is LIST_POISON1 (dead000000100100)");
        if (prev == Poison2)
            return Corrupt(node, $"list_del corruption, {Fmt(node)}->prev is LIST_POISON2 (dead000000200200)");
        if (IsPoison(next) || IsPoison(prev))
            return Corrupt(node, $"list_del: general protection fault following a poisoned pointer (prev={Fmt(prev)}, next={Fmt(next)})");
        if (Next(prev) != node)
            return Corrupt(node, $"list_del corruption. prev->next should be {Fmt(node)}, but was {Fmt(Next(prev))}");
        return Corrupt(node, $"list_del corruption. next->prev should be {Fmt(node)}, but was {Fmt(Prev(next))}");
    }

    /// <summary>A link of <paramref name="node"/> changes: mark it and its block if it is a page (list heads are in no block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Changed(int node)
    {
        if ((uint)node >= (uint)_nrPages) return;
        // Both arrays cover every page (tested above): no bounds checks, so that this stays small where it is inlined.
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_marks), node >> PageChanges.ChunkOrder) = PageChanges.Written;
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_linkChanged), node >> 6) |= 1UL << node;
    }

    /// <summary>
    /// Whether a link of page <paramref name="pfn"/> changed since <see cref="ForgetLinkChanges"/>, or a neighbour's link
    /// came to lead to it or stopped doing so (every list operation marks the pages at both ends of each link it sets,
    /// the old ends included). A page not marked has the links it had then, and so do the pages either side of it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool LinkChanged(int pfn) => (_linkChanged[pfn >> 6] & (1UL << pfn)) != 0;

    /// <summary>The pages of the MAX_ORDER blocks <paramref name="blocks"/> whose links changed (<see cref="LinkChanged"/>), in PFN order within each block.</summary>
    public LinkChanges LinkChangesIn(IReadOnlyList<int> blocks) => new(_linkChanged, blocks);

    private const int LinkWordsPerBlock = 1 << (PageChanges.BlockOrder - 6);

    /// <summary>An enumerator over the set bits of the link-change words of some blocks (foreach-able, allocates nothing).</summary>
    public struct LinkChanges(ulong[] words, IReadOnlyList<int> blocks)
    {
        private int _block = -1, _word, _end;
        private ulong _bits;

        public int Current { get; private set; }

        public readonly LinkChanges GetEnumerator() => this;

        // Inlined into the caller's loop: a page of a word with bits left costs a few instructions, not a call.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool MoveNext()
        {
            if (_bits == 0 && !NextWord()) return false;
            Current = 64 * _word + System.Numerics.BitOperations.TrailingZeroCount(_bits);
            _bits &= _bits - 1;
            return true;
        }

        /// <summary>On to the next word with a bit set, in this block or the next ones; false past the last block.</summary>
        private bool NextWord()
        {
            while (_bits == 0)
            {
                if (++_word >= _end)
                {
                    if (++_block >= blocks.Count) return false;
                    _word = blocks[_block] * LinkWordsPerBlock;
                    _end = Math.Min(_word + LinkWordsPerBlock, words.Length);
                }
                _bits = words[_word];
            }
            return true;
        }
    }

    /// <summary>Forget the link changes in <paramref name="blocks"/> (null: everywhere): the checks have looked at them.</summary>
    public void ForgetLinkChanges(IReadOnlyList<int>? blocks)
    {
        if (blocks is null)
        {
            Array.Clear(_linkChanged);
            return;
        }
        foreach (int block in blocks)
        {
            int first = block * LinkWordsPerBlock;
            Array.Clear(_linkChanged, first, Math.Min(LinkWordsPerBlock, _linkChanged.Length - first));
        }
    }

    private bool Corrupt(int node, string message)
    {
        _sanitizer.Report(ReportKind.ListCorruption, node < _nrPages ? node : -1, message);
        return false;
    }

    private string Fmt(int node) => IsPoison(node) ? (node == Poison1 ? "LIST_POISON1" : "LIST_POISON2")
        : node >= _nrPages ? $"head#{node - _nrPages}" : $"pfn {node}";
}
