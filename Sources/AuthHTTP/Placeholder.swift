import Hummingbird
public enum AuthHTTPPlaceholder {}
