namespace OdooOps.Server;

/// <summary>
/// Thrown inside a user transaction when a write turns out not to be allowed after others were made (RLS let
/// nothing through): the transaction rolls back and the caller gets this status as ProblemDetails.
/// </summary>
internal sealed class RequestRefusedException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static RequestRefusedException Forbidden(string detail) => new(StatusCodes.Status403Forbidden, "Forbidden", detail);
}
