public enum AuthEventsPlaceholder {}
