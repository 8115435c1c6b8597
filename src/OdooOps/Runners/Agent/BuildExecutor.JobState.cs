using OdooOps.Runners.Agent.Sandbox;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent;

internal sealed partial class BuildExecutor
{
    /// <summary>Why a build stopped early, shared by the heartbeat, the log sender and the run.</summary>
    sealed class JobState
    {
        volatile bool _cancelled, _leaseLost;
        public bool Cancelled => _cancelled;
        public bool Unreachable { get; set; }
        public BuildSandbox? Sandbox { get; set; }
        public string? Checkout { get; set; }
        public string? Database { get; set; }

        /// <summary>The runner made a development or staging database for this build: it goes unless an instance took it.</summary>
        public bool DatabaseMade { get; set; }
        public bool ReleaseRecorded { get; set; }

        /// <summary>A production update's pre-deploy backup, put back if the update fails; and what that revert did.</summary>
        public SafeDeploy? SafeDeploy { get; set; }
        public BuildRevert? Reverted { get; set; }
        public bool RevertTried { get; set; }

        /// <summary>A development or staging build's data dir (its filestore): removed with its database when no instance takes it.</summary>
        public string? DataDir { get; set; }

        /// <summary>The production instance stopped for this build's update, started again (or replaced) when it ends.</summary>
        public IAsyncDisposable? Paused { get; set; }
        public bool IsLeaseLost => _leaseLost;
        public void Cancel() => _cancelled = true;

        public void LeaseLost(CancellationTokenSource abort)
        {
            _leaseLost = true;
            abort.Cancel();
        }
    }
}
