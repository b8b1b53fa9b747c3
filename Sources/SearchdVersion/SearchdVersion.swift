/// The release every binary reports (`--version`), stamped at build time from the VERSION
/// file by the VersionStamp plugin; `make deb` names the package from the same file.
public enum SearchdVersion {
  public static let current: String = stampedVersion
}
