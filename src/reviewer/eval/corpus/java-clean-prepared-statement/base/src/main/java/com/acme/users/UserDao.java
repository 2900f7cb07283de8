package com.acme.users;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

public final class UserDao {
    private static final String COLUMNS = "id, email, display_name";
    private final Connection connection;

    public UserDao(Connection connection) {
        this.connection = connection;
    }

    public Optional<User> byId(long id) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT " + COLUMNS + " FROM users WHERE id = ?")) {
            ps.setLong(1, id);
            return one(ps);
        }
    }

    private static Optional<User> one(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next()
                    ? Optional.of(new User(rs.getLong(1), rs.getString(2), rs.getString(3)))
                    : Optional.empty();
        }
    }
}
