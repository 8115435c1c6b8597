using System.Runtime.InteropServices;

namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>
/// The seccomp filter bubblewrap loads before a build's program starts (<c>--seccomp</c>): system calls a build never
/// needs and that would let it reach past its build fail with EPERM. The kernel keyrings belong to the uid, not the
/// sandbox, so a key one build adds would be read by a later build leased the same uid; BPF, perf events, userfaultfd
/// and io_uring are kernel attack surface (Docker's default profile refuses them too). Other ABIs of the machine (32-bit
/// x86, x32) are refused whole, as their call numbers differ. Null on architectures this list does not cover.
/// </summary>
internal static class SandboxSeccomp
{
    const ushort Load = 0x20, JumpEqual = 0x15, JumpAtLeast = 0x35, Return = 0x06; // BPF_LD|W|ABS, JMP|JEQ|K, JMP|JGE|K, RET|K
    const uint Allow = 0x7fff_0000, DenyEperm = 0x0005_0000 | 1;

    public static byte[]? Filter()
    {
        var (arch, refused) = RuntimeInformation.ProcessArchitecture switch
        {
            // add_key, request_key, keyctl, bpf, userfaultfd, perf_event_open, io_uring_setup/enter/register
            Architecture.X64 => (0xc000_003eu, new uint[] { 248, 249, 250, 321, 323, 298, 425, 426, 427 }),
            Architecture.Arm64 => (0xc000_00b7u, new uint[] { 217, 218, 219, 280, 282, 241, 425, 426, 427 }),
            _ => (0u, Array.Empty<uint>()),
        };
        if (arch == 0) return null;
        var program = new List<(ushort Code, byte True, byte False, uint K)>();
        var denyAt = 4 + refused.Length + 1; // the index of the last instruction
        program.Add((Load, 0, 0, 4)); // seccomp_data.arch
        program.Add((JumpEqual, 0, (byte)(denyAt - 2), arch));
        program.Add((Load, 0, 0, 0)); // seccomp_data.nr
        program.Add((JumpAtLeast, (byte)(denyAt - 4), 0, 0x4000_0000)); // x32 calls on x86-64
        foreach (var nr in refused) program.Add((JumpEqual, (byte)(denyAt - program.Count - 1), 0, nr));
        program.Add((Return, 0, 0, Allow));
        program.Add((Return, 0, 0, DenyEperm));
        var bytes = new byte[program.Count * 8];
        for (var i = 0; i < program.Count; i++)
        {
            var (code, jt, jf, k) = program[i];
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), code);
            bytes[i * 8 + 2] = jt;
            bytes[i * 8 + 3] = jf;
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 8 + 4), k);
        }
        return bytes;
    }
}
