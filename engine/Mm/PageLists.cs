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
/// </summary>
internal sealed class PageLists : ISnapshotState
{
    /// <summary>LIST_POISON1 / LIST_POISON2: what <c>list_del</c> leaves in next / prev.</summary>
    public const int Poison1 = int.MinValue + 0x100;
    public const int Poison2 = int.MinValue + 0x200;

    /// <summary>The bytes of one page's <c>lru</c> list_head here: its next and prev.</summary>
    public const int BytesPerPage = 2 * sizeof(int);

    private readonly int _nrPages;
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly Stack<int> _freeHeads = new();
    private readonly Sanitizer _sanitizer;
    [NotState("the marks of PageTable.Changes, not list state")]
    private readonly PageChanges _changes;
    [NotState("the recorder of partial-order reduction, set for a race explored with it")]
    private StepAccesses? _accesses;

    public PageLists(PageTable pages, Sanitizer sanitizer, int maxHeads = 4096)
    {
        _nrPages = pages.NrPages;
        _sanitizer = sanitizer;
        _changes = pages.Changes;
        _next = new int[_nrPages + maxHeads];
        _prev = new int[_nrPages + maxHeads];
        for (int h = maxHeads - 1; h >= 0; h--) _freeHeads.Push(_nrPages + h);
        // Pages start on no list; poison makes a stray list_del visible.
        Array.Fill(_next, Poison1, 0, _nrPages);
        Array.Fill(_prev, Poison2, 0, _nrPages);
    }

    public static bool IsPoison(int node) => node == Poison1 || node == Poison2;
    public bool IsHead(int node) => node >= _nrPages;

    public int Next(int node)
    {
        _accesses?.Read(node);
        return _next[node];
    }

    public int Prev(int node)
    {
        _accesses?.Read(node);
        return _prev[node];
    }

    /// <summary>Record every access to a node's links in <paramref name="accesses"/> from now on (null: stop); taking or
    /// giving back a list head is global.</summary>
    public void Track(StepAccesses? accesses) => _accesses = accesses;

    /// <summary>A new empty list (INIT_LIST_HEAD); give it back with <see cref="FreeHead"/>.</summary>
    public int NewHead()
    {
        _accesses?.Global();
        if (_freeHeads.Count == 0) throw new InvalidOperationException("out of simulated list heads");
        int h = _freeHeads.Pop();
        _next[h] = h;
        _prev[h] = h;
        return h;
    }

    public void FreeHead(int head)
    {
        _accesses?.Global();
        _freeHeads.Push(head);
    }

    /// <summary>Every link and the free list heads (<see cref="Stack{T}.ToArray"/> gives them top first).</summary>
    public object Save() => ((int[])_next.Clone(), (int[])_prev.Clone(), _freeHeads.ToArray());

    public void Restore(object saved)
    {
        _changes.MarkAll();
        var (next, prev, freeHeads) = ((int[], int[], int[]))saved;
        next.CopyTo(_next, 0);
        prev.CopyTo(_prev, 0);
        _freeHeads.Clear();
        for (int i = freeHeads.Length - 1; i >= 0; i--) _freeHeads.Push(freeHeads[i]);
    }

    public bool Empty(int head) => Next(head) == head;

    /// <summary>list_add: insert after <paramref name="head"/> (at the head of the list).</summary>
    public bool Add(int node, int head) => Insert(node, head, Next(head));

    /// <summary>list_add_tail: insert before <paramref name="head"/>.</summary>
    public bool AddTail(int node, int head) => Insert(node, Prev(head), head);

    /// <summary>list_del: unlink and poison.</summary>
    public bool Del(int node)
    {
        if (!Unlink(node)) return false;
        _accesses?.Write(node);
        _next[node] = Poison1;
        _prev[node] = Poison2;
        return true;
    }

    /// <summary>list_move: unlink and add at the head of another list.</summary>
    public bool Move(int node, int head) => Unlink(node) && Add(node, head);

    /// <summary>list_move_tail: to the tail of another list.</summary>
    public bool MoveTail(int node, int head) => Unlink(node) && AddTail(node, head);

    /// <summary>
    /// list_rotate_to_front(<paramref name="node"/>, <paramref name="head"/>): rotate the list so that
    /// <paramref name="node"/> comes first, the entries before it going to the tail in order (the head is moved).
    /// </summary>
    public bool RotateToFront(int node, int head) => node == head || (Unlink(head) && Insert(head, Prev(node), node));

    /// <summary>True if <paramref name="node"/> currently sits on some list (its links are not poison).</summary>
    public bool OnAList(int node) => !IsPoison(Next(node));

    /// <summary>
    /// A list walk (list_for_each_entry[_safe] in <paramref name="walker"/>) over <paramref name="head"/> about to
    /// visit <paramref name="node"/>, after <paramref name="visited"/> entries: a poison value is the general
    /// protection fault the kernel would take, another list's head means the walk was carried into a foreign list,
    /// and more entries than there are pages means a cycle that never comes back to the head (the kernel would
    /// loop forever). Each is reported (by a walk that names its walker); the walk stops.
    /// </summary>
    private bool WalkLeavesList(int node, int head, int visited, string? walker)
    {
        bool leaves = IsPoison(node) || (IsHead(node) && node != head) || visited >= _nrPages;
        if (!leaves || walker is null) return leaves;
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

    /// <summary>__list_add with the v3.16 CONFIG_DEBUG_LIST checks.</summary>
    private bool Insert(int node, int prev, int next)
    {
        Touch(node, prev, next);
        if (IsPoison(prev) || IsPoison(next))
            return Corrupt(node, $"list_add: general protection fault following a poisoned pointer (prev={Fmt(prev)}, next={Fmt(next)})");
        if (_prev[next] != prev)
            return Corrupt(node, $"list_add corruption. next->prev should be prev ({Fmt(prev)}), but was {Fmt(_prev[next])}. (next={Fmt(next)})");
        if (_next[prev] != next)
            return Corrupt(node, $"list_add corruption. prev->next should be next ({Fmt(next)}), but was {Fmt(_next[prev])}. (prev={Fmt(prev)})");
        if (node == prev || node == next)
            return Corrupt(node, $"list_add double add: new={Fmt(node)}, prev={Fmt(prev)}, next={Fmt(next)}");
        if (!IsPoison(_next[node])) Changed(_next[node]);
        if (!IsPoison(_prev[node])) Changed(_prev[node]);
        Changed(node);
        Changed(prev);
        Changed(next);
        _next[node] = next;
        _prev[node] = prev;
        _prev[next] = node;
        _next[prev] = node;
        return true;
    }

    /// <summary>__list_del_entry with the v3.16 CONFIG_DEBUG_LIST checks.</summary>
    private bool Unlink(int node)
    {
        int next = _next[node], prev = _prev[node];
        Touch(node, prev, next);
        if (next == Poison1)
            return Corrupt(node, $"list_del corruption, {Fmt(node)}->next is LIST_POISON1 (dead000000100100)");
        if (prev == Poison2)
            return Corrupt(node, $"list_del corruption, {Fmt(node)}->prev is LIST_POISON2 (dead000000200200)");
        if (IsPoison(next) || IsPoison(prev))
            return Corrupt(node, $"list_del: general protection fault following a poisoned pointer (prev={Fmt(prev)}, next={Fmt(next)})");
        if (_next[prev] != node)
            return Corrupt(node, $"list_del corruption. prev->next should be {Fmt(node)}, but was {Fmt(_next[prev])}");
        if (_prev[next] != node)
            return Corrupt(node, $"list_del corruption. next->prev should be {Fmt(node)}, but was {Fmt(_prev[next])}");
        Changed(node);
        Changed(prev);
        Changed(next);
        _next[prev] = next;
        _prev[next] = prev;
        return true;
    }

    /// <summary>For the recorder: list_add / list_del read and may write the links of the three nodes (a poisoned one is no node).</summary>
    private void Touch(int node, int prev, int next)
    {
        if (_accesses is not { } a) return;
        a.Write(node);
        if (!IsPoison(prev)) a.Write(prev);
        if (!IsPoison(next)) a.Write(next);
    }

    /// <summary>A link of <paramref name="node"/> changes: mark its block if it is a page (list heads are in no block).</summary>
    private void Changed(int node)
    {
        if ((uint)node < (uint)_nrPages) _changes.Mark(node);
    }

    private bool Corrupt(int node, string message)
    {
        _sanitizer.Report(ReportKind.ListCorruption, node < _nrPages ? node : -1, message);
        return false;
    }

    private string Fmt(int node) => IsPoison(node) ? (node == Poison1 ? "LIST_POISON1" : "LIST_POISON2")
        : node >= _nrPages ? $"head#{node - _nrPages}" : $"pfn {node}";
}
