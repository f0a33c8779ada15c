using System.Runtime.CompilerServices;
using EarlyWarning.App.Http;
using EarlyWarning.Core.Posts;

namespace EarlyWarning.App.Pipeline.Sources;

/// <summary>
/// Partner reports (<see cref="ReportIntake"/>) as a pipeline source named <c>reports</c>; offset = report number.
/// It never ends by itself. When reading stops it closes the intake (new reports get 503) and hands on what was
/// already accepted, so no report answered with 202 is dropped silently. Reports live only in memory until stored:
/// there is nothing to re-read after a restart, and the intake numbers on after the store's checkpoint.
/// </summary>
public sealed class ReportSource : IMessageSource
{
    private readonly ReportIntake _intake;

    public ReportSource(ReportIntake intake)
    {
        ArgumentNullException.ThrowIfNull(intake);
        _intake = intake;
    }

    public string Name => ReportIntake.SourceName;
    public bool IsFinite => false;

    /// <summary>Reports are not replayable; numbering after the checkpoint is the intake's job.</summary>
    public long? ResumeFrom(IReadOnlyDictionary<string, long> stateOffsets) => null;

    public async IAsyncEnumerable<RawMessage> ReadAsync(long? resumeAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = _intake.Reader;
        while (true)
        {
            bool more;
            try { more = await reader.WaitToReadAsync(ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            if (!more) break;
            while (!ct.IsCancellationRequested && reader.TryRead(out var m)) yield return m;
        }
        _intake.Close();
        while (reader.TryRead(out var rest)) yield return rest;
    }
}
