using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Host;

/// <summary>
/// QEMU's side of free page hinting (VIRTIO_BALLOON_F_FREE_PAGE_HINT; read in QEMU 5.1+'s hw/virtio/virtio-balloon.c):
/// the status and command id behind the config space's <c>free_page_hint_cmd_id</c>, moved by the migration's precopy
/// notifier (<c>virtio_balloon_free_page_hint_notify</c>), and the handling of what the guest puts on the free page
/// virtqueue (<c>get_free_page_hints</c>). Each status change notifies the guest of a config change
/// (<c>virtio_notify_config</c>). A hinted block is handed to the migration (<c>qemu_guest_free_page_hint</c>) only while
/// the status is START: after the guest has sent back the command id it asked for, and before a stop. Without the
/// feature negotiated the notifier does nothing.
/// </summary>
internal sealed class FreePageHints(BalloonHost balloonHost, SimulationOptions options, Scheduler scheduler) : ISnapshotState
{
    /// <summary>VIRTIO_BALLOON_CMD_ID_STOP and VIRTIO_BALLOON_CMD_ID_DONE: the ids the config space reads in those statuses.</summary>
    public const long CmdIdStop = 0, CmdIdDone = 1;

    /// <summary>VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN: the first command id a migration asks for.</summary>
    public const long CmdIdMin = 0x8000_0000;

    /// <summary>FREE_PAGE_HINT_S_* (include/hw/virtio/virtio-balloon.h): the device's status, STOP when it is made.</summary>
    public enum Status { Stop = 0, Requested = 1, Start = 2, Done = 3 }

    /// <summary>[status, free_page_hint_cmd_id].</summary>
    private readonly SharedArray _state = Init(new SharedArray(scheduler, 2));
    private const int StatusIndex = 0, CmdIdIndex = 1;

    /// <summary>virtio_balloon_instance_init: the command id starts at the minimum (the first start asks for the next one).</summary>
    private static SharedArray Init(SharedArray state)
    {
        state.Set(CmdIdIndex, CmdIdMin);
        return state;
    }

    [NotState("wiring: the migration that takes the hints, set when it is built")]
    private LiveMigration? _migration;

    /// <summary>The guest's driver negotiated the feature (the host offers it with QEMU's <c>free-page-hint=on</c>).</summary>
    public bool Negotiated { get; } = options.FreePageHint;

    public Status CurrentStatus => (Status)_state[StatusIndex];

    public void Attach(LiveMigration migration) => _migration = migration;

    /// <summary>
    /// The config space's <c>free_page_hint_cmd_id</c> (virtio_balloon_get_config): the id asked for while REQUESTED,
    /// STOP or DONE in those statuses, and 0 — which reads as STOP — once hinting has started (the field is left zero).
    /// </summary>
    public long ConfigCmdId => CurrentStatus switch
    {
        Status.Requested => _state[CmdIdIndex],
        Status.Done => CmdIdDone,
        _ => CmdIdStop,
    };

    /// <summary>virtio_balloon_free_page_start: the next command id, REQUESTED, and a config interrupt.</summary>
    public void Start()
    {
        if (!Negotiated) return;
        _state.Set(CmdIdIndex, _state[CmdIdIndex] == uint.MaxValue ? CmdIdMin : _state[CmdIdIndex] + 1);
        SetStatus(Status.Requested);
    }

    /// <summary>virtio_balloon_free_page_stop: STOP and a config interrupt, unless stopped already.</summary>
    public void Stop()
    {
        if (Negotiated && CurrentStatus != Status.Stop) SetStatus(Status.Stop);
    }

    /// <summary>virtio_balloon_free_page_done: DONE and a config interrupt, unless done already.</summary>
    public void Done()
    {
        if (Negotiated && CurrentStatus != Status.Done) SetStatus(Status.Done);
    }

    private void SetStatus(Status status)
    {
        _state.Set(StatusIndex, (long)status);
        balloonHost.NotifyConfig();
    }

    /// <summary>
    /// get_free_page_hints for an out-buffer with a command id: the id asked for, while REQUESTED, starts hinting; any
    /// other id while started stops it (only then: a stale stop of an earlier command does nothing).
    /// </summary>
    public void ReceiveCmdId(long id)
    {
        var status = CurrentStatus;
        if (status == Status.Requested && id == _state[CmdIdIndex]) _state.Set(StatusIndex, (long)Status.Start);
        else if (status == Status.Start) _state.Set(StatusIndex, (long)Status.Stop);
    }

    /// <summary>
    /// get_free_page_hints for an in-buffer (a free block of 2^<paramref name="order"/> pages from <paramref name="pfn"/>):
    /// while started, qemu_guest_free_page_hint clears it from the migration's bitmap. Otherwise the buffer is only given back.
    /// </summary>
    public void ReceiveHint(int pfn, int order)
    {
        if (CurrentStatus == Status.Start) _migration?.GuestFreePageHint(pfn, 1 << order);
    }

    public object Save() => _state.Save();

    public void Restore(object saved) => _state.Restore((long[])saved);
}
