/// Herald's version, as `herald --version` prints it and the server logs at start.
public enum HeraldVersion {
    public static let current = "0.13.0"
}
