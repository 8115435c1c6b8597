using Npgsql;
using OdooOps.Audit;
using OdooOps.Database;
using OdooOps.Notifications.Delivery;
using OdooOps.Server;

namespace OdooOps.Notifications;

/// <summary>
/// What an organisation's owners and admins do to its notification channels, the one use case behind the API, the
/// console page and (through the API) the CLI: add, change, remove, send a test, redeliver — each one transaction with
/// its audit row (<c>notification_channel.create|update|delete|test</c>, <c>notification_delivery.redeliver</c>), which
/// never holds a secret. Secrets are encrypted here, before they leave the process.
/// </summary>
internal sealed class NotificationChannels(OpsDatabase db, NotificationSecretProtector protector, NotificationSettings settings)
{
    public abstract record Outcome
    {
        public sealed record Done(NotificationChannel Channel) : Outcome;
        public sealed record Queued(NotificationDelivery Delivery) : Outcome;
        public sealed record Removed(string Name) : Outcome;
        public sealed record Invalid(Validation Errors) : Outcome;
        public sealed record Refused(string Message) : Outcome;
        public sealed record Conflict(string Message) : Outcome;
        /// <summary>Too many tests and redeliveries to the channel (or the organisation) lately: 429 with Retry-After.</summary>
        public sealed record TooMany(string Message, int RetryAfterSeconds) : Outcome;
        public sealed record NotFound : Outcome;
    }

    /// <summary>The refusal past the ration of tests and redeliveries (ops_private.notification_send_ration).</summary>
    const string TestQuotaState = "OON01";

    public NotificationSettings Settings => settings;

    /// <summary>Adds a channel (<paramref name="channelId"/> null) or changes one.</summary>
    public Task<Outcome> SaveAsync(Actor actor, Guid orgId, Guid? channelId, ChannelRequest request, CancellationToken ct) =>
        RunAsync(actor, async (c, t) =>
        {
            var current = channelId is { } id ? await NotificationStore.GetAsync(c, t, orgId, id) : null;
            if (channelId is not null && current is null) return new Outcome.NotFound();
            var (spec, errors) = NotificationChannelRules.Check(request, current, settings);
            if (spec is null) return new Outcome.Invalid(errors);
            if (spec.SmtpHost is { } host && await EmailSender.OwnServerRefusalAsync(settings.Smtp, host, ct) is { } relay)
                return new Outcome.Invalid(new Validation().Add("smtp.host", relay));
            var ciphertext = spec.Secret is { Length: > 0 } secret ? protector.Protect(orgId, secret) : spec.Secret;
            var saved = await NotificationStore.SaveAsync(c, t, orgId, channelId, spec, ciphertext, settings.AllowedEmailDomains);
            await AuditLog.WriteAsync(c, t, actor, new(orgId, null, current is null ? "notification_channel.create" : "notification_channel.update",
                "notification_channel", saved.ToString(), current is null ? null : Shown(current), spec.Audit));
            return new Outcome.Done((await NotificationStore.GetAsync(c, t, orgId, saved))!);
        }, ct);

    public Task<Outcome> DeleteAsync(Actor actor, Guid orgId, Guid channelId, CancellationToken ct) =>
        RunAsync(actor, async (c, t) =>
        {
            if (await NotificationStore.GetAsync(c, t, orgId, channelId) is not { } current) return new Outcome.NotFound();
            await NotificationStore.DeleteAsync(c, t, orgId, channelId);
            await AuditLog.WriteAsync(c, t, actor, new(orgId, null, "notification_channel.delete", "notification_channel", channelId.ToString(), Shown(current)));
            return new Outcome.Removed(current.Name);
        }, ct);

    public Task<Outcome> TestAsync(Actor actor, Guid orgId, Guid channelId, CancellationToken ct) =>
        RunAsync(actor, async (c, t) =>
        {
            if (await NotificationStore.GetAsync(c, t, orgId, channelId) is null) return new Outcome.NotFound();
            var delivery = await NotificationStore.QueueTestAsync(c, t, orgId, channelId, settings.TestLimit);
            await AuditLog.WriteAsync(c, t, actor, new(orgId, null, "notification_channel.test", "notification_channel", channelId.ToString(),
                After: new { DeliveryId = delivery }));
            return new Outcome.Queued((await NotificationStore.DeliveryAsync(c, t, orgId, delivery))!);
        }, ct);

    public Task<Outcome> RedeliverAsync(Actor actor, Guid orgId, Guid deliveryId, CancellationToken ct) =>
        RunAsync(actor, async (c, t) =>
        {
            if (await NotificationStore.DeliveryAsync(c, t, orgId, deliveryId) is not { } before) return new Outcome.NotFound();
            await NotificationStore.RedeliverAsync(c, t, orgId, deliveryId, settings.TestLimit);
            await AuditLog.WriteAsync(c, t, actor, new(orgId, before.ProjectId, "notification_delivery.redeliver", "notification_delivery", deliveryId.ToString(),
                new { before.Status, before.Attempts, before.ResponseCode, before.ChannelId, before.Event, before.EventId }));
            return new Outcome.Queued((await NotificationStore.DeliveryAsync(c, t, orgId, deliveryId))!);
        }, ct);

    static object Shown(NotificationChannel ch) => new
    {
        ch.Name, ch.Kind, ch.Target, ch.SmtpHost, ch.SmtpPort, ch.SmtpTls, ch.SmtpUsername, ch.SmtpFrom, ch.Events, ch.ProjectIds, ch.MinSeverity, ch.Enabled,
    };

    /// <summary>The database's refusals as outcomes; the transaction is gone with them, so nothing changed.</summary>
    async Task<Outcome> RunAsync(Actor actor, Func<NpgsqlConnection, NpgsqlTransaction, Task<Outcome>> work, CancellationToken ct)
    {
        try { return await db.AsUserAsync(actor.UserId, work, ct); }
        catch (PostgresException e) when (e.SqlState == "42501") { return new Outcome.Refused(e.MessageText); }
        catch (PostgresException e) when (e.SqlState == "P0002") { return new Outcome.NotFound(); }
        catch (PostgresException e) when (e.SqlState == "55000") { return new Outcome.Conflict(e.MessageText); }
        catch (PostgresException e) when (e.SqlState == TestQuotaState)
        {
            return new Outcome.TooMany(e.MessageText, int.TryParse(e.Hint, out var seconds) ? seconds : 600);
        }
        catch (PostgresException e) when (e.SqlState == "22023" && e.ColumnName is { } column)
        {
            return new Outcome.Invalid(new Validation().Add(column, e.MessageText));
        }
        catch (PostgresException e) when (e.SqlState == "23505" && e.ConstraintName == "notification_channels_org_id_name_key")
        {
            return new Outcome.Invalid(new Validation().Add("name", "Another channel of this organisation has that name."));
        }
    }
}
