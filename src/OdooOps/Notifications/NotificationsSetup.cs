using OdooOps.Notifications.Delivery;
using OdooOps.Webhooks;

namespace OdooOps.Notifications;

/// <summary>Registers notifications with `serve`: their settings (checked at start-up), the use cases, and the delivery worker.</summary>
internal static class NotificationsSetup
{
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration config)
    {
        var settings = NotificationSettings.From(config);
        var publicUrl = WebhookSettings.From(config).PublicUrl;
        services.AddSingleton(settings);
        services.AddSingleton<NotificationSecretProtector>();
        services.AddSingleton<NotificationChannels>();
        services.AddSingleton(new EmailSender(settings));
        services.AddSingleton(sp => new NotificationSender(settings, sp.GetRequiredService<NotificationSecretProtector>(),
            sp.GetRequiredService<EmailSender>(), publicUrl, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<NotificationWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<NotificationWorker>());
        return services;
    }
}
