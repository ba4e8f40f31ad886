namespace Gateway.Relay;

public enum RelayOutcome { Accepted, Temporary, Permanent }
