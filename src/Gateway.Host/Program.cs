using System.CommandLine;
using Gateway.Cli;

// No termination handling by System.CommandLine: by default it force-exits 2 s after SIGTERM or
// Ctrl-C, which would cut deliveries in flight. The host's console lifetime handles both signals
// and stops the services in order (listener first, then the workers with their ShutdownTimeout).
return await GatewayCommandLine.Create().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
