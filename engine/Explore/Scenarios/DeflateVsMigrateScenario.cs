namespace BalloonScript.Engine.Explore.Scenarios;

/// <summary>
/// <see cref="DeflateVsIsolateScenario"/>, but compaction migrates what it isolated (virtballoon_migratepage
/// against leak_balloon; <c>then="migrate"</c>). Besides defect 4 this exposes f68b992 (v4.5): leak_balloon released
/// the shared vb-&gt;pfns array after dropping balloon_lock, so a migratepage in between made it release the wrong
/// page; and in v3.18 the 2019 newpage race (<see cref="NewpageAfterUnlockScenario"/>).
/// </summary>
internal sealed class DeflateVsMigrateScenario(ScenarioKit kit) : DeflateVsIsolateScenario(kit)
{
    protected override string Then => "migrate";
}
