package com.acme.billing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

public final class InvoiceRepository {
    private final Connection connection;

    public InvoiceRepository(Connection connection) {
        this.connection = connection;
    }

    public List<Invoice> forAccount(long accountId) throws SQLException {
        String sql = "SELECT id, number, amount_cents FROM invoices WHERE account_id = ?"
                + " ORDER BY issued_at DESC";
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            ps.setLong(1, accountId);
            try (ResultSet rs = ps.executeQuery()) {
                List<Invoice> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Invoice(rs.getLong(1), rs.getString(2), rs.getLong(3)));
                }
                return out;
            }
        }
    }
}
