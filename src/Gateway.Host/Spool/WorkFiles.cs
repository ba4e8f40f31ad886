using System.Collections.Concurrent;

namespace Gateway.Spool;

/// <summary>
/// The files in spool/work that hold copies too large for memory (a signed or encrypted copy and
/// the transformation's intermediate copies), reused instead of created and deleted per copy:
/// creating files is what a busy spool's file system spends most on. A large message made four
/// each time, and on this project's machine (ext4 without a journal, where a new inode must not
/// be one deleted moments ago) finding their inodes took 14 % of the CPU of signing and
/// encrypting a 1 MB message. A file is emptied when its copy is disposed, so no copy outlives
/// its use any longer than it did when it was deleted; the spool's recovery at start deletes
/// whatever is left.
/// </summary>
/// <param name="maximumIdle">Idle files kept for reuse; beyond that (after a burst of large messages) they are deleted.</param>
public sealed class WorkFiles(string folder, int maximumIdle)
{
    /// <summary>
    /// Intermediate copies one transformation has open at most: signing and encrypting a large
    /// message makes up to four (canonical form, opaque signed-data, signed entity, envelope),
    /// besides the copy, which a worker holds while it is relayed.
    /// </summary>
    public const int PerTransform = 4;

    /// <summary>Files open at once at most: each worker's copy, and the intermediate ones of the copies being made.</summary>
    public static int AtOnce(int workers, int transforms) => workers + PerTransform * transforms;

    private readonly ConcurrentBag<string> _idle = [];

    /// <summary>An empty file of its own for the caller, to write, read and dispose.</summary>
    public Stream Open()
    {
        while (_idle.TryTake(out var path))
        {
            try
            {
                return new WorkFile(this, path, OpenFile(path, FileMode.Truncate)); // empty already; truncated all the same
            }
            catch (FileNotFoundException)
            {
                // Deleted under us (by hand): the next, or a new one.
            }
        }
        var created = Path.Combine(folder, $"work-{Guid.NewGuid():N}.tmp");
        return new WorkFile(this, created, OpenFile(created, FileMode.CreateNew));
    }

    private static FileStream OpenFile(string path, FileMode mode) => new(path, mode, FileAccess.ReadWrite, FileShare.None, 64 * 1024);

    private void Return(string path, bool emptied)
    {
        if (emptied && _idle.Count < maximumIdle)
        {
            _idle.Add(path);
            return;
        }
        Delete(path);
    }

    private static void Delete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A file stream that empties its file and gives it back when disposed.</summary>
    private sealed class WorkFile(WorkFiles owner, string path, FileStream file) : ForwardingStream(file)
    {
        private readonly FileStream _file = file;
        private bool _returned;

        protected override void Dispose(bool disposing)
        {
            if (!_returned)
            {
                _returned = true;
                if (disposing) Release();
                else Delete(path); // a copy nobody disposed: its file goes, as with a file deleted on close
            }
            base.Dispose(disposing);
        }

        ~WorkFile() => Dispose(false);

        /// <summary>Empties the file and gives it back; one that cannot be emptied is deleted, never left with a copy in it.</summary>
        private void Release()
        {
            var emptied = false;
            try
            {
                // Emptied before it is closed: what it held is gone now, not at its next use.
                _file.SetLength(0);
                emptied = true;
            }
            catch (IOException)
            {
                // Its buffer could not be written (a full disk): deleted below.
            }
            try
            {
                _file.Dispose();
            }
            catch (IOException)
            {
                // The same write again, on closing; the handle is closed all the same.
                emptied = false;
            }
            owner.Return(path, emptied);
        }
    }
}
