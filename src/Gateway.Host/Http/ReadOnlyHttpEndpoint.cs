using System.Net;

namespace Gateway.Http;

/// <summary>
/// The loop of a small read-only HTTP endpoint on HttpListener (the CA's CRL, the metrics):
/// requests are answered one at a time until the stop, and a request whose answer fails gets a
/// 500 instead of ending the loop, so a client that goes away or a file that cannot be read never
/// stops the service, let alone the gateway.
/// </summary>
internal static class ReadOnlyHttpEndpoint
{
    /// <param name="listener">Started.</param>
    /// <param name="failed">Told of each answer that failed.</param>
    public static async Task ServeAsync(HttpListener listener, Func<HttpListenerContext, Task> answer, Action<Exception> failed, CancellationToken stoppingToken)
    {
        using var registration = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return; // stopped
            }
            try
            {
                await answer(context);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failed(e);
                try
                {
                    context.Response.StatusCode = 500;
                    context.Response.Close();
                }
                catch (Exception closing) when (closing is HttpListenerException or InvalidOperationException or ObjectDisposedException)
                {
                    // The client went away: nobody to answer.
                }
            }
        }
    }
}
