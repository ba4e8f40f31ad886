using Gateway.Cli;

return await GatewayCommandLine.Create().Parse(args).InvokeAsync();
