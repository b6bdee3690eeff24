using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Snapshots;

/// <summary>Makes every stateful part of a simulation reachable as <see cref="ISnapshotState"/>, in registration order.</summary>
internal static class SnapshotServiceCollectionExtensions
{
    /// <summary>
    /// For each singleton registered so far whose class implements <see cref="ISnapshotState"/>, also register it as
    /// one (the same instance), so a part added later is snapshotted without being listed anywhere. Registrations that
    /// only forward an interface to a class registered on its own are skipped, so no part is saved twice.
    /// </summary>
    public static IServiceCollection AddSnapshotStates(this IServiceCollection services)
    {
        foreach (var d in services.ToArray())
        {
            if (d.Lifetime != ServiceLifetime.Singleton) continue;
            var type = d.ImplementationType ?? (d.ServiceType.IsClass ? d.ServiceType : null);
            if (type is null || !typeof(ISnapshotState).IsAssignableFrom(type)) continue;
            var serviceType = d.ServiceType;
            services.AddSingleton(sp => (ISnapshotState)sp.GetRequiredService(serviceType));
        }
        return services;
    }
}
