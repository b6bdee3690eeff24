using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Mm;

/// <summary>The CONFIG_DEBUG_LIST checks of v3.16 lib/list_debug.c: a failed check is a list_corruption
/// report and the operation is not done; the simulator never crashes on a corrupted list.</summary>
public class PageListsTests
{
    private Sanitizer _sanitizer = null!;
    private PageLists _lists = null!;

    [SetUp]
    public void SetUp()
    {
        var parts = Harness.Bare(64, maxHeads: 8);
        _sanitizer = parts.Sanitizer;
        _lists = parts.Lists;
    }

    private List<SanitizerReport> Corruptions => _sanitizer.Reports.Where(r => r.Kind == ReportKind.ListCorruption).ToList();

    private int[] LinkChanged() => Enumerable.Range(0, 64).Where(_lists.LinkChanged).ToArray();

    /// <summary>
    /// Each list operation marks the pages at both ends of every link it sets or undoes, the old ends included (what the
    /// balloon check's partial walk rests on), and nothing else; forgetting clears the marks.
    /// </summary>
    [Test]
    public void LinkChanged_EveryOperationMarksBothEndsOfEachLinkItChanges()
    {
        int head = _lists.NewHead(), other = _lists.NewHead();
        foreach (int p in new[] { 10, 20, 30, 40 }) _lists.AddTail(p, head);
        _lists.ForgetLinkChanges(null);
        Assert.That(LinkChanged(), Is.Empty);

        _lists.Del(20);
        Assert.That(LinkChanged(), Is.EqualTo(new[] { 10, 20, 30 }), "list_del: the page and both neighbours");
        _lists.ForgetLinkChanges(null);

        _lists.Add(50, head);
        Assert.That(LinkChanged(), Is.EqualTo(new[] { 10, 50 }), "list_add after the head: the page and the old first entry");
        _lists.ForgetLinkChanges(null);

        _lists.Add(30, other); // added twice: its old neighbours still lead to it
        Assert.That(LinkChanged(), Is.EqualTo(new[] { 10, 30, 40 }), "a page added while on a list: its old neighbours too");
        _lists.ForgetLinkChanges([0]);
        Assert.That(LinkChanged(), Is.Empty, "block 0 holds every page here");
    }

    /// <summary>
    /// Boot's InitLinks writes what a page on no list reads as (both links poisoned), marks nothing, and the page is then
    /// listed as any other: a write of the state the page already had, so that its links are first touched by a write.
    /// </summary>
    [Test]
    public void InitLinks_WritesThePoisonedLinksOfAPageOnNoList_MarksNothing()
    {
        int head = _lists.NewHead();
        _lists.ForgetLinkChanges(null);

        _lists.InitLinks(7);

        Assert.That((_lists.Next(7), _lists.Prev(7)), Is.EqualTo((PageLists.Poison1, PageLists.Poison2)));
        Assert.That(_lists.OnAList(7), Is.False);
        Assert.That(LinkChanged(), Is.Empty);
        _lists.Add(7, head);
        Assert.That((_lists.Next(head), _lists.Next(7)), Is.EqualTo((7, head)));
        Assert.That(Corruptions, Is.Empty);
    }

    [Test]
    public void ListDel_v316_DeletingTwiceReportsListPoison1AndDoesNotCrash()
    {
        int head = _lists.NewHead();
        _lists.Add(5, head);
        Assert.That(_lists.Del(5), Is.True);
        Assert.That((_lists.Next(5), _lists.Prev(5)), Is.EqualTo((PageLists.Poison1, PageLists.Poison2)), "list_del poisons the entry");

        bool done = _lists.Del(5);

        Assert.That(done, Is.False);
        var report = Corruptions.Single();
        Assert.That(report.Pfn, Is.EqualTo(5));
        Assert.That(report.Message, Does.Contain("list_del corruption").And.Contain("LIST_POISON1"));
        Assert.That(_lists.Empty(head), Is.True);
        Assert.That(_lists.Add(6, head), Is.True, "the list is still usable");
        Assert.That(_lists.Count(head, "test"), Is.EqualTo(1));
    }

    [Test]
    public void ListAdd_v316_AddingNextToANodeWhoseLinksWereOverwrittenIsReported()
    {
        int listA = _lists.NewHead();
        int listB = _lists.NewHead();
        _lists.Add(1, listA);
        _lists.Add(1, listB); // re-added without list_del: listA->next is 1, but 1->prev is now listB

        bool done = _lists.Add(2, listA);

        Assert.That(done, Is.False);
        Assert.That(Corruptions.Single().Message, Does.Contain("list_add corruption. next->prev should be prev (head#0), but was head#1"));
        Assert.That(_lists.OnAList(2), Is.False, "the add was not done");
    }

    [Test]
    public void ListAdd_v316_AddingANodeTwiceToTheSameListIsReported()
    {
        int head = _lists.NewHead();
        _lists.Add(3, head);

        Assert.That(_lists.Add(3, head), Is.False);
        Assert.That(Corruptions.Single().Message, Does.Contain("list_add double add"));
        Assert.That(_lists.Count(head, "test"), Is.EqualTo(1));
    }

    [Test]
    public void ListDel_v316_DeletingAnEntryWhosePrevNoLongerPointsAtItIsReported()
    {
        int listA = _lists.NewHead();
        int listB = _lists.NewHead();
        _lists.Add(1, listA);
        _lists.Add(2, listA); // listA: 2, 1
        _lists.Add(2, listB); // 2 re-added without list_del: 1->prev is still 2, but 2->next is now listB

        bool done = _lists.Del(1);

        Assert.That(done, Is.False);
        Assert.That(Corruptions.Single().Message, Does.Contain("list_del corruption. prev->next should be pfn 1, but was head#1"));
        Assert.That(_lists.Next(listA), Is.EqualTo(2), "nothing was unlinked");
    }

    /// <summary>
    /// list_splice of a list whose tail entry's links were overwritten: the move of that entry is refused and reported
    /// once, and the splice ends there (it used to try the same move for ever), leaving both entries where they were.
    /// </summary>
    [Test]
    public void SpliceAll_StopsAtTheFirstMoveTheChecksRefuse_ReportsItOnce()
    {
        int listA = _lists.NewHead(), listB = _lists.NewHead(), to = _lists.NewHead();
        _lists.Add(1, listA);
        _lists.Add(2, listA); // listA: 2, 1
        _lists.Add(2, listB); // 2 re-added without list_del: 1->prev is still 2, but 2->next is now listB

        var splice = Task.Run(() => _lists.SpliceAll(listA, to));

        Assert.That(splice.Wait(TimeSpan.FromSeconds(30)), Is.True, "the splice returned");
        Assert.That(Corruptions.Single().Message, Does.Contain("list_del corruption. prev->next should be pfn 1, but was head#1"));
        Assert.That(Corruptions.Single().Pfn, Is.EqualTo(1));
        Assert.That(_lists.Prev(listA), Is.EqualTo(1), "the refused entry stays on its list");
        Assert.That(_lists.Empty(to), Is.True);
    }
}
