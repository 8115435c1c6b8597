namespace OdooOps.Builds;

/// <summary>
/// Caps on the live log streams of this server process: OPS_BUILD_LOG_STREAMS_PER_USER (20) for one user, whatever
/// their sessions and tokens, and OPS_BUILD_LOG_STREAMS_MAX (500) in all. A stream takes a slot before it reads
/// anything and holds it until its request ends; past either cap it is refused (429 with Retry-After).
/// </summary>
internal sealed class BuildLogStreamLimits(BuildLogStreamSettings settings)
{
    /// <summary>What a refused client is told to wait before trying again.</summary>
    public const int RetryAfterSeconds = 10;

    readonly Lock _gate = new();
    readonly Dictionary<Guid, int> _perUser = [];
    int _open;

    /// <summary>Streams open in this process now.</summary>
    public int Open { get { lock (_gate) return _open; } }

    /// <summary>A slot for one more stream of <paramref name="userId"/>, or null and the answer to give instead: 429 with
    /// Retry-After and the reason.</summary>
    public Slot? TryOpen(HttpContext http, Guid userId, out IResult? refused)
    {
        var slot = TryOpen(userId, out var refusal);
        refused = null;
        if (slot is not null) return slot;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        refused = TypedResults.Problem(refusal, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many live log streams");
        return null;
    }

    /// <summary>A slot for one more stream of <paramref name="userId"/>, or null and why not.</summary>
    public Slot? TryOpen(Guid userId, out string refusal)
    {
        var (perUser, max) = (settings.StreamsPerUser, settings.StreamsMax);
        lock (_gate)
        {
            var mine = _perUser.GetValueOrDefault(userId);
            if (mine >= perUser)
            {
                refusal = $"You have {mine} live log streams open, the most one user may ({BuildLogStreamSettings.PerUserKey}); close one or try again later.";
                return null;
            }
            if (_open >= max)
            {
                refusal = $"This server has {_open} live log streams open, the most it serves ({BuildLogStreamSettings.MaxKey}); try again later.";
                return null;
            }
            _perUser[userId] = mine + 1;
            _open++;
        }
        refusal = "";
        return new Slot(this, userId);
    }

    void Close(Guid userId)
    {
        lock (_gate)
        {
            _open--;
            if (--_perUser[userId] == 0) _perUser.Remove(userId);
        }
    }

    /// <summary>One open stream; disposing it (once) frees the slot.</summary>
    public sealed class Slot(BuildLogStreamLimits owner, Guid userId) : IDisposable
    {
        int _closed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0) owner.Close(userId);
        }
    }
}
