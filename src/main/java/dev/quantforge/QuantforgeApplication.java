package dev.quantforge;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

@SpringBootApplication
public class QuantforgeApplication {
    public static void main(String[] args) {
        SpringApplication.run(QuantforgeApplication.class, args);
    }
}
