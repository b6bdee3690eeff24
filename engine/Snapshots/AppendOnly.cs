namespace BalloonScript.Engine.Snapshots;

/// <summary>Saving and restoring a list that is only ever appended to (reports, history rows), without copying it each time.</summary>
internal static class AppendOnly
{
    /// <summary>
    /// Put <paramref name="list"/> back to <paramref name="saved"/>. Each element is a distinct object appended once, so
    /// when the element at the saved length's last index is still the saved one, the saved elements are the list's first
    /// ones and dropping the rest is enough (what a restore between explored schedules meets); otherwise it is copied.
    /// </summary>
    public static void Restore<T>(List<T> list, T[] saved) where T : class
    {
        int n = saved.Length;
        if (list.Count >= n && (n == 0 || ReferenceEquals(list[n - 1], saved[n - 1])))
        {
            list.RemoveRange(n, list.Count - n);
            return;
        }
        list.Clear();
        list.AddRange(saved);
    }
}
