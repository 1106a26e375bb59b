package dev.quantforge.platform.db;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.quantforge.platform.QfProperties;

/**
 * The zero-setup default: without {@code QF_DB_URL} (spring.datasource.url) the service starts
 * its own PostgreSQL under the data dir and uses it. With a URL, Spring Boot's usual DataSource
 * takes over and nothing here is created.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${spring.datasource.url:}'.isBlank()")
public class EmbeddedDatabaseConfig {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabaseConfig.class);

    @Bean(destroyMethod = "close")
    EmbeddedPostgresServer embeddedPostgres(QfProperties props) {
        long t0 = System.nanoTime();
        EmbeddedPostgresServer server = EmbeddedPostgresServer.start(props.dataDir().toAbsolutePath(), props.db().embeddedPort());
        log.info("embedded PostgreSQL ready on 127.0.0.1:{} (data in {}) in {} ms", server.port(),
                props.dataDir().toAbsolutePath().resolve("postgres"), (System.nanoTime() - t0) / 1_000_000);
        return server;
    }

    @Bean(destroyMethod = "close")
    DataSource dataSource(EmbeddedPostgresServer server, org.springframework.core.env.Environment env) {
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(server.jdbcUrl(EmbeddedPostgresServer.DEFAULT_DATABASE));
        cfg.setUsername(server.username());
        cfg.setPassword(server.password());
        cfg.setMaximumPoolSize(env.getProperty("spring.datasource.hikari.maximum-pool-size", Integer.class, 16));
        cfg.setPoolName("embedded-pg");
        return new HikariDataSource(cfg);
    }
}
